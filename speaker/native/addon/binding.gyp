{
  "targets": [
    {
      "target_name": "herald_native",
      "sources": [
        "../src/addon.c"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "_GNU_SOURCE"
      ],
      "cflags_c": [
        "-std=gnu11",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter"
      ]
    }
  ]
}
