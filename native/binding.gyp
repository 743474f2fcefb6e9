{
  "targets": [
    {
      "target_name": "fewmark",
      "sources": ["src/addon.cc", "src/tensors.cc", "src/ops.cc", "src/vision.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/torch/csrc/api/include",
        "/usr/include/opencv4"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": [
        "-ltorch", "-ltorch_cpu", "-lc10",
        "-lopencv_core", "-lopencv_imgproc", "-lopencv_imgcodecs", "-lopencv_features2d"
      ]
    }
  ]
}
