/* stb_image's implementation, compiled with the fuzzing instrumentation
 * for the image harness (the build's own comes uninstrumented from
 * libstb); the harness's definitions take precedence over the shared
 * library's. */
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
