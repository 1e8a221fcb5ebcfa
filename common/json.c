/* json.c - a JSON writer: one object per line, built in place, written whole or not at all. */
#include "json.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Make room for more bytes (and the terminating NUL); false when out of memory. */
static bool reserve(struct net_json *j, size_t more)
{
    size_t cap = j->cap;
    char *bigger;

    if (j->failed)
        return false;
    if (j->len + more + 1 <= j->cap)
        return true;
    while (cap < j->len + more + 1)
        cap *= 2;
    bigger = j->buf == j->small ? malloc(cap) : realloc(j->buf, cap);
    if (bigger == NULL) {
        j->failed = true;
        return false;
    }
    if (j->buf == j->small)
        memcpy(bigger, j->small, j->len + 1);
    j->buf = bigger;
    j->cap = cap;
    return true;
}

static void put(struct net_json *j, const char *text, size_t len)
{
    if (!reserve(j, len))
        return;
    memcpy(j->buf + j->len, text, len);
    j->len += len;
    j->buf[j->len] = '\0';
}

/* Append formatted text (numbers, short pieces), growing the buffer as needed. */
static void append(struct net_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(struct net_json *j, const char *fmt, ...)
{
    char piece[512]; /* room for any number, even %.3f of DBL_MAX */
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof piece) {
        j->failed = true; /* never cut: a piece this long is a bug, and the object is dropped */
        return;
    }
    put(j, piece, (size_t)n);
}

static void key(struct net_json *j, const char *name)
{
    bool first = j->len > 0 && j->buf[j->len - 1] == '{';

    if (!first)
        put(j, ",", 1);
    put(j, "\"", 1);
    put(j, name, strlen(name));
    put(j, "\":", 2);
}

/* Length of the valid UTF-8 sequence at s (at most left bytes), or 0 when it is not one:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t left)
{
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Escape bytes the way JSON strings require; see net_json_bytes for bytes >= 0x80. */
static void escaped(struct net_json *j, const unsigned char *s, size_t len)
{
    size_t i = 0;

    put(j, "\"", 1);
    while (i < len) {
        unsigned char c = s[i];
        size_t n = i;

        /* a run of plain characters, copied at once */
        while (n < len && s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"' && s[n] != '\\')
            n++;
        if (n > i) {
            put(j, (const char *)s + i, n - i);
            i = n;
            continue;
        }
        n = c >= 0x80 ? utf8_length(s + i, len - i) : 0;
        if (n > 0)
            put(j, (const char *)s + i, n); /* a whole UTF-8 character */
        else if (c == '"' || c == '\\')
            append(j, "\\%c", c);
        else if (c == '\n')
            put(j, "\\n", 2);
        else if (c == '\r')
            put(j, "\\r", 2);
        else if (c == '\t')
            put(j, "\\t", 2);
        else
            append(j, "\\u%04x", c); /* a control byte, or a byte that is not UTF-8 */
        i += n > 0 ? n : 1;
    }
    put(j, "\"", 1);
}

void net_json_begin(struct net_json *j)
{
    j->buf = j->small;
    j->cap = sizeof j->small;
    j->len = 0;
    j->failed = false;
    j->buf[0] = '\0';
    put(j, "{", 1);
}

void net_json_str(struct net_json *j, const char *name, const char *value)
{
    key(j, name);
    escaped(j, (const unsigned char *)value, strlen(value));
}

void net_json_bytes(struct net_json *j, const char *name, const void *data, size_t len)
{
    key(j, name);
    escaped(j, data, len);
}

void net_json_int(struct net_json *j, const char *name, long long value)
{
    key(j, name);
    append(j, "%lld", value);
}

void net_json_num(struct net_json *j, const char *name, double value, int decimals)
{
    key(j, name);
    append(j, "%.*f", decimals, value);
}

void net_json_bool(struct net_json *j, const char *name, bool value)
{
    key(j, name);
    append(j, "%s", value ? "true" : "false");
}

void net_json_object(struct net_json *j, const char *name)
{
    key(j, name);
    append(j, "{");
}

void net_json_close(struct net_json *j)
{
    append(j, "}");
}

void net_json_array(struct net_json *j, const char *name)
{
    key(j, name);
    append(j, "[");
}

void net_json_item(struct net_json *j, const char *value)
{
    if (j->len > 0 && j->buf[j->len - 1] != '[')
        put(j, ",", 1);
    escaped(j, (const unsigned char *)value, strlen(value));
}

void net_json_array_close(struct net_json *j)
{
    append(j, "]");
}

void net_json_end(struct net_json *j, FILE *fp)
{
    put(j, "}\n", 2);
    if (!j->failed)
        fwrite(j->buf, 1, j->len, fp);
    if (j->buf != j->small)
        free(j->buf);
    j->buf = j->small;
}
