/* STELLA_API: marks what libstella exports. Plain C so that stella/stella.h can use it.
 *
 * libstella is built with hidden visibility (-fvisibility=hidden); only declarations marked
 * STELLA_API are visible in libstella.so. In the static library the mark is harmless.
 * On Windows (static builds only for now) it expands to nothing unless STELLA_SHARED is
 * defined: then __declspec(dllexport) while building (STELLA_BUILDING_LIBRARY) and
 * __declspec(dllimport) for consumers. */
#ifndef STELLA_COMMON_EXPORT_H
#define STELLA_COMMON_EXPORT_H

#if defined(_WIN32)
#if defined(STELLA_SHARED) && defined(STELLA_BUILDING_LIBRARY)
#define STELLA_API __declspec(dllexport)
#elif defined(STELLA_SHARED)
#define STELLA_API __declspec(dllimport)
#else
#define STELLA_API
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define STELLA_API __attribute__((visibility("default")))
#else
#define STELLA_API
#endif

#endif /* STELLA_COMMON_EXPORT_H */
