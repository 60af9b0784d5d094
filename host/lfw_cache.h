/* The binary cache of a decoded image bank, so that a set is decoded once per
 * machine. One file per (image root, pairs file, image size); its header
 * records what it was built from and is checked field by field, its body is
 * checksummed, and anything that does not match exactly is a miss (the
 * caller decodes again and rewrites the file). Writes are atomic: a
 * temporary file in the same directory, fsync, rename.
 *
 * Layout (native endianness, which the magic pins down):
 *   "SIAMIMG\x01" | u32 version, height, width, count, crop, 0 | u64 pairs_hash,
 *   list_hash, content_hash, source_len, names_len | source bytes | names,
 *   each NUL-terminated | count*height*width pixels | u64 checksum of all
 *   before. */
#ifndef SIAM_LFW_CACHE_H
#define SIAM_LFW_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

/* 3: the key holds the image files' contents too (content_hash). 4: JPEGs are
 * decoded by libjpeg-turbo (host/jpeg_decode.h), whose pixels differ from
 * stb_image's by a grey level here and there: a version-3 file is a miss. */
#define SIAM_CACHE_VERSION 4u

/* What a cache must have been built from to be used. */
typedef struct siam_cache_key {
    const char *set;           /* what is cached: the resolved pairs file, or "" for
                                * every image under source; names the file only */
    const char *source;        /* resolved image root directory */
    uint64_t pairs_hash;       /* hash of the pairs file; 0 for "every image" */
    uint64_t list_hash;        /* hash of the image names, sizes and mtimes */
    uint64_t content_hash;     /* siam_cache_contents of the files' bytes: what
                                * siam_cache_write records (the reader hashes
                                * the files at `paths` itself) */
    int height, width, count;
    int crop;                  /* centred crop side before resizing; 0: whole image */
    const char *const *names;  /* count image names relative to source */
    const char *const *paths;  /* the count files, for siam_cache_read's content check
                                * (NULL: the check fails, a miss) */
    int threads;               /* for hashing them (0: one per core) */
} siam_cache_key;

/* The key's content_hash from each file's siam_hash64_blocks (the decoder
 * gives them: host/lfw_images.h), in key order. */
uint64_t siam_cache_contents(const uint64_t *file_hashes, int count);

/* The cache directory: `override` when non-NULL, else $SIAMLUA_CACHE when
 * set and non-empty, else $HOME/.cache/siamlua; created (with parents) when
 * missing. */
int siam_cache_dir(char *out, size_t cap, const char *override, siam_error *err);

/* dir/images-<16 hex digits>.bin, named by set, source, image size and crop (not
 * by the hashes, so a stale cache is overwritten rather than left behind). */
int siam_cache_path(char *out, size_t cap, const char *dir, const siam_cache_key *key,
                    siam_error *err);

/* 1: the file matches key and pixels (count*height*width) are filled;
 * 0: miss, with the reason in `why` ("no cache file", "stale: ...",
 * "truncated: ...", "corrupt: ..."). Never trusts a partial match. Only
 * once everything else matches (checksum included) are the image files
 * read and hashed, on key->threads threads, and compared with the file's
 * content hash: an image changed in place with its size and time put back
 * is "stale: an image file's contents changed". A file that cannot be read
 * then is a miss too (the decoder reports it). */
int siam_cache_read(const char *path, const siam_cache_key *key, uint8_t *pixels, char *why,
                    size_t why_cap);

/* Writes the cache atomically; -1 with the reason in err (the caller may go on
 * without a cache). */
int siam_cache_write(const char *path, const siam_cache_key *key, const uint8_t *pixels,
                     siam_error *err);

#endif
