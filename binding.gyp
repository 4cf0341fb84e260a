{
  "targets": [
    {
      "target_name": "vantage_icmp",
      "sources": ["native/icmp_socket.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "vantage_tcp_info",
      "sources": ["native/tcp_info.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "vantage_heap",
      "sources": ["native/heap_pressure.cc"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,-z,now"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
