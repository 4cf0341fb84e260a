/** Where a value sits in the config document: keys and array indexes from the root. */
export type ConfigPath = ReadonlyArray<string | number>;
