/* fuzz.c - ladder_fuzz: libFuzzer feeds captures to everything a capture file reaches.
 *
 * The pcap and pcapng reader, the IP/TCP/UDP/ICMP decoder, the exchange model and every
 * output format: each input is read as a capture file, once whole and once --apart, and
 * drawn in every format (to /dev/null), then compared with its own first half as two
 * captures of one exchange. Built with clang's -fsanitize=fuzzer,address,
 * undefined under the fuzz preset; the suite runs it for a bounded time from the lessons'
 * captures. */
#include "ladder.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;

static void draw(const uint8_t *data, size_t size, int only)
{
    static int (*const writers[])(FILE *, struct ladder_exchange *const *, int) = {
        ladder_text_write, ladder_mermaid_write, ladder_svg_write, ladder_html_write};
    struct ladder_exchange ex, *one[1] = {&ex};
    struct ladder_error err;
    FILE *file = fmemopen((void *)data, size, "rb");

    if (file == NULL || ladder_exchange_init(&ex, "fuzz.pcap", 64, 0, &err) != 0) {
        if (file)
            fclose(file);
        return;
    }
    ex.only = only;
    if (ladder_read_file(&ex, file, &err) == 0)
        for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++)
            writers[i](sink, one, 1);
    ladder_exchange_free(&ex);
}

/* the input as two captures of one exchange, its second half cut away from one of them:
 * what compare.c makes of them, drawn */
static void compare(const uint8_t *data, size_t size)
{
    struct ladder_exchange ex[2], *two[2] = {&ex[0], &ex[1]};
    struct ladder_error err;
    size_t sizes[2] = {size, size / 2 + 1};
    int read = 0;

    for (int i = 0; i < 2; i++) {
        FILE *file = fmemopen((void *)data, sizes[i], "rb");
        if (ladder_exchange_init(&ex[i], "fuzz.pcap", 64, 0, &err) != 0) {
            if (file)
                fclose(file);
            break;
        }
        read++;
        if (file == NULL || ladder_read_file(&ex[i], file, &err) != 0)
            break;
    }
    if (read == 2 && ex[0].narrows && ex[1].narrows && ladder_compare(two[0], two[1]) == 0)
        ladder_text_write(sink, two, 2);
    for (int i = 0; i < read; i++)
        ladder_exchange_free(&ex[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
        abort();
    if (size == 0) /* fmemopen refuses an empty buffer; an empty file is tested on its own */
        return 0;
    draw(data, size, -1);
    draw(data, size, LADDER_TCP);
    compare(data, size);
    return 0;
}
