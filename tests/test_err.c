/* test_err.c - error messages: symbolic names, reasons, and hints a beginner can act on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "err.h"

static void names_are_symbolic(void **state)
{
    (void)state;
    assert_string_equal(net_err_name(EADDRINUSE), "EADDRINUSE");
    assert_string_equal(net_err_name(ECONNREFUSED), "ECONNREFUSED");
    assert_string_equal(net_err_name(EMSGSIZE), "EMSGSIZE");
    assert_string_equal(net_err_name(EMFILE), "EMFILE");
    assert_string_equal(net_err_name(-12345), "E?");
}

static void address_in_use_reads_as_the_spec_says(void **state)
{
    struct net_error err;
    char line[512];

    (void)state;
    assert_int_equal(net_err_errno(&err, EADDRINUSE, "cannot listen on %s", "127.0.0.1:7007"), -1);
    assert_string_equal(net_err_format(&err, line, sizeof line),
                        "cannot listen on 127.0.0.1:7007: address already in use "
                        "(EADDRINUSE; is another server running? try -p 0)");
}

static void refused_names_the_fix(void **state)
{
    struct net_error err;
    char line[512];

    (void)state;
    net_err_errno(&err, ECONNREFUSED, "cannot connect to %s", "[::1]:7007");
    net_err_format(&err, line, sizeof line);
    assert_non_null(strstr(line, "cannot connect to [::1]:7007: connection refused"));
    assert_non_null(strstr(line, "ECONNREFUSED"));
    assert_non_null(strstr(line, "is the server running"));
}

static void resolver_errors_stay_apart_from_errno(void **state)
{
    struct net_error err;
    char line[512];

    (void)state;
    net_err_resolver(&err, EAI_NONAME, "cannot resolve %s", "nowhere");
    assert_int_equal(err.kind, NET_ERR_RESOLVER);
    assert_int_equal(err.code, EAI_NONAME);
    net_err_format(&err, line, sizeof line);
    assert_non_null(strstr(line, "cannot resolve nowhere: "));
    assert_non_null(strstr(line, "check the spelling"));
    /* EAI_SYSTEM means the real cause is in errno */
    errno = EMFILE;
    net_err_resolver(&err, EAI_SYSTEM, "cannot resolve %s", "x");
    assert_int_equal(err.kind, NET_ERR_ERRNO);
    assert_int_equal(err.code, EMFILE);
}

static void words_carry_their_detail(void **state)
{
    struct net_error err;
    char line[512];

    (void)state;
    net_err_words(&err, NET_ERR_USAGE, "'70000' is not a port (use 1-65535)", "%s", "-p");
    assert_string_equal(net_err_format(&err, line, sizeof line),
                        "-p: '70000' is not a port (use 1-65535)");
    net_err_words(&err, NET_ERR_TIMEOUT, "nothing came back within 1 s", "no reply from %s",
                  "127.0.0.1:7007");
    assert_string_equal(net_err_format(&err, line, sizeof line),
                        "no reply from 127.0.0.1:7007: nothing came back within 1 s");
}

static void long_messages_are_cut_not_overrun(void **state)
{
    struct net_error err;
    char big[1000], line[64];

    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    net_err_errno(&err, EPIPE, "%s", big);
    assert_int_equal(strlen(err.what), sizeof err.what - 1);
    net_err_format(&err, line, sizeof line);
    assert_int_equal(strlen(line), sizeof line - 1);
}

/* A value with a newline or other control character (from the command line, from a peer)
 * cannot split an error into two lines: it is shown escaped. */
static void control_characters_are_shown_escaped(void **state)
{
    struct net_error err;
    char line[256];

    (void)state;
    net_err_words(&err, NET_ERR_USAGE, "'80\nabc' is not a port", "%s", "-p");
    net_err_format(&err, line, sizeof line);
    assert_string_equal(line, "-p: '80\\nabc' is not a port");
    net_err_errno(&err, ECONNREFUSED, "cannot reach %s", "a\tb\x1b[2Jc\\d");
    net_err_format(&err, line, sizeof line);
    assert_string_equal(line, "cannot reach a\\tb\\x1b[2Jc\\d: connection refused (ECONNREFUSED; "
                              "is the server running, and on this port?)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_are_symbolic),
        cmocka_unit_test(address_in_use_reads_as_the_spec_says),
        cmocka_unit_test(refused_names_the_fix),
        cmocka_unit_test(resolver_errors_stay_apart_from_errno),
        cmocka_unit_test(words_carry_their_detail),
        cmocka_unit_test(long_messages_are_cut_not_overrun),
        cmocka_unit_test(control_characters_are_shown_escaped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
