/* json.h - a JSON writer for events: one object per line, for scripts to read. */
#ifndef SOCKLAB_JSON_H
#define SOCKLAB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A JSON object built in place and written as one line. It grows as needed (into the heap
 * past the first kilobyte): an object is written whole or, out of memory, not at all. */
struct net_json {
    char *buf; /* small, or a heap buffer once the object outgrew it */
    size_t len, cap;
    bool failed; /* out of memory: net_json_end writes nothing */
    char small[1024];
};

void net_json_begin(struct net_json *j);
/* Strings, from text or from raw bytes: control characters, NUL included, are escaped;
 * valid UTF-8 passes as it is; each byte that is not part of valid UTF-8 is written as
 * \u00XX, its value (so the line is valid JSON and the byte can still be read back). */
void net_json_str(struct net_json *j, const char *key, const char *value);
void net_json_bytes(struct net_json *j, const char *key, const void *data, size_t len);
void net_json_int(struct net_json *j, const char *key, long long value);
void net_json_num(struct net_json *j, const char *key, double value, int decimals);
void net_json_bool(struct net_json *j, const char *key, bool value);
/* A nested object: "name":{ ... }, closed by net_json_close. */
void net_json_object(struct net_json *j, const char *name);
void net_json_close(struct net_json *j);
/* An array of strings: "name":[ ... ], one net_json_item each, closed by net_json_array_close. */
void net_json_array(struct net_json *j, const char *name);
void net_json_item(struct net_json *j, const char *value);
void net_json_array_close(struct net_json *j);
void net_json_end(struct net_json *j, FILE *fp);

#endif
