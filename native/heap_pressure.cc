// Moderate memory pressure for the calling thread's V8 isolate, for src/agent/heap-trim.ts.
//
// Why native: V8 (12.x, Node 22) keeps the pages a mark-compact frees in a pool, still committed,
// until a memory-reducing collection; only its memory reducer starts one, and it waits for a low
// allocation rate, which an agent running thousands of checks never has. So the pages of every
// past peak stay in RSS: start-up's (the config read and the checks built, 69 MB pooled 3 s into
// bench/scale.mjs's 12,000 checks) and any after it. A moderate memory-pressure notification is the
// embedder's way to ask for one: V8 starts an incremental mark-compact that reduces memory and,
// at its end, gives the pool back. Node has no JavaScript API for it. The call only starts the
// marking (or does nothing while a marking already runs); V8 finishes it as any other.
//
// JavaScript API:
//   moderate()   notifies the isolate of the calling thread; returns undefined.
#include <node_api.h>
#include <v8.h>

static napi_value Moderate(napi_env env, napi_callback_info info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kModerate);
  return nullptr;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "moderate", NAPI_AUTO_LENGTH, Moderate, nullptr, &fn) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "moderate", fn) != napi_ok) return nullptr;
  return exports;
}
