// Memory-pressure notifications for the calling thread's V8 isolate, for src/agent/heap-trim.ts.
//
// Why native: V8 (12.x, Node 22) keeps the pages a mark-compact frees in a pool, still committed,
// until a memory-reducing collection; only its memory reducer starts one, and it waits for a low
// allocation rate, which an agent running thousands of checks never has. So the pages of every
// past peak stay in RSS: start-up's (the config read and the checks built, 69 MB pooled 3 s into
// bench/scale.mjs's 12,000 checks) and any after it. A memory-pressure notification is the
// embedder's way to ask for one, and a memory-reducing collection gives the pool back at its end.
// Node has no JavaScript API for it.
//
// Unlike the C addons this one calls V8's C++ API, which N-API does not keep stable across Node
// majors: it is linked with -z now (binding.gyp), so a build whose V8 symbols the running Node lacks
// fails to load, where src/agent/heap-trim.ts says so, instead of at its first call. npm ci (or
// npm run build:native) builds it for the Node that runs it.
//
// JavaScript API (both for the isolate of the calling thread; both return undefined):
//   moderate()   moderate pressure: starts an incremental memory-reducing mark-compact, unless a
//                marking runs already (then nothing happens).
//   critical()   critical pressure: memory-reducing full collections at once (blocking, tens of
//                milliseconds at thousands of checks); never dropped.
#include <node_api.h>
#include <v8.h>

static void Notify(v8::MemoryPressureLevel level) {
  v8::Isolate* isolate = v8::Isolate::TryGetCurrent();
  if (isolate != nullptr) isolate->MemoryPressureNotification(level);
}

static napi_value Moderate(napi_env env, napi_callback_info info) {
  Notify(v8::MemoryPressureLevel::kModerate);
  return nullptr;
}

static napi_value Critical(napi_env env, napi_callback_info info) {
  Notify(v8::MemoryPressureLevel::kCritical);
  return nullptr;
}

static bool Export(napi_env env, napi_value exports, const char* name, napi_callback callback) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, nullptr, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!Export(env, exports, "moderate", Moderate) || !Export(env, exports, "critical", Critical)) {
    napi_throw_error(env, nullptr, "vantage_heap: cannot export its functions");
    return nullptr;
  }
  return exports;
}
