{
  "targets": [
    {
      "target_name": "paperlab_native",
      "sources": [
        "src/addon.cc",
        "src/pool.cc",
        "src/gemm.cc",
        "src/sgemm.cc",
        "src/conv.cc",
        "src/elementwise.cc",
        "src/memory.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(pkg-config --cflags-only-I openblas | sed 's/-I//g')"
      ],
      "libraries": [
        "<!@(pkg-config --libs openblas)",
        "-Wl,-rpath,<!(pkg-config --variable=libdir openblas)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2", "-O0"],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-march=<!(node -p \"process.env.PAPERLAB_NATIVE_MARCH || 'native'\")",
        "-mprefer-vector-width=512",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-fopenmp-simd",
        "-fexceptions",
        "-Wall",
        "-Wno-unused-function"
      ],
      "ldflags": ["-pthread"]
    }
  ]
}
