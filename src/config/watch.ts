import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` (debounced) when the config file may have changed. The directory is watched,
 * not the file: editors replace files by rename, and Kubernetes swaps a ConfigMap's `..data`
 * symlink, neither of which a watch on the old inode would see. Spurious calls are fine: the
 * caller compares content before reloading. `onError` hears when watching stops working.
 */
export function watchConfigFile(
  file: string,
  onChange: () => void,
  onError: (err: unknown) => void,
  debounceMs = 300,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const name = basename(file);
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed && changed !== name && !changed.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    watcher.on('error', (err) => {
      watcher?.close();
      onError(err);
    });
  } catch (err) {
    onError(err);
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
