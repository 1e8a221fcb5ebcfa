/* html.c - the ladder as one self-contained page: the drawing, and a packet's detail on demand. */
#include "ladder.h"

static const char head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<style>\n"
    "body { font: 14px sans-serif; margin: 1em; color: #222; }\n"
    "#detail { position: sticky; top: 0; background: #fffbe6; border: 1px solid #e0c97f; "
    "padding: .5em; white-space: pre; font: 12px monospace; min-height: 4.5em; }\n"
    ".pkt { cursor: pointer; }\n"
    ".pkt:hover line, .pkt.chosen line { stroke-width: 4; }\n"
    ".pkt.chosen text.label { font-weight: bold; }\n"
    "</style>\n";

/* No library, no fetch: hovering shows a packet, a click keeps it shown and names it in the
 * address (page.html#c0-f4: frame 4 of the left capture), so a link opens on that packet. */
static const char script[] =
    "<script>\n"
    "(function () {\n"
    "  var detail = document.getElementById('detail');\n"
    "  var captures = document.querySelectorAll('.capture');\n"
    "  var chosen = null;\n"
    "  function show(g) {\n"
    "    var d = g.dataset;\n"
    "    detail.textContent = 'frame ' + d.frame + ' of ' + captures[+d.capture].textContent +\n"
    "      ', ' + d.time + ' s after its first packet\\n' + d.from + ' -> ' + d.to + '\\n' +\n"
    "      d.label + (d.text ? '\\npayload: ' + d.text : '');\n"
    "  }\n"
    "  function choose(g) {\n"
    "    if (chosen) chosen.classList.remove('chosen');\n"
    "    chosen = g;\n"
    "    g.classList.add('chosen');\n"
    "    show(g);\n"
    "  }\n"
    "  function fromAddress() {\n"
    "    var g = location.hash ? document.getElementById(location.hash.slice(1)) : null;\n"
    "    if (g && g.classList.contains('pkt')) choose(g);\n"
    "  }\n"
    "  document.querySelectorAll('.pkt').forEach(function (g) {\n"
    "    g.addEventListener('mouseenter', function () { show(g); });\n"
    "    g.addEventListener('mouseleave', function () { if (chosen) show(chosen); });\n"
    "    g.addEventListener('click', function () {\n"
    "      choose(g);\n"
    "      history.replaceState(null, '', '#' + g.id);\n"
    "    });\n"
    "  });\n"
    "  window.addEventListener('hashchange', fromAddress);\n"
    "  fromAddress();\n"
    "})();\n"
    "</script>\n";

/* the title and the line that says what is drawn, naming each capture once */
static void intro(FILE *out, struct ladder_exchange *const *ex, int count)
{
    fputs("<title>ladder: ", out);
    for (int i = 0; i < count; i++) {
        fputs(i ? " and " : "", out);
        ladder_xml_puts(out, ex[i]->path);
    }
    fputs("</title>\n</head>\n<body>\n<h1>", out);
    fputs(count > 1 ? "Two captures side by side" : "One capture", out);
    fputs("</h1>\n<p>One arrow per packet, time flowing down", out);
    if (count > 1)
        fputs(", the same time scale for both", out);
    fputs(". Captures:", out);
    for (int i = 0; i < count; i++) {
        fprintf(out, " %s <code class=\"capture\">", ladder_label_proto(ex[i]));
        ladder_xml_puts(out, ex[i]->path);
        fputs("</code>", out);
    }
    fputs(". Hover over an arrow for its packet; click to keep it (the address then links to "
          "it).</p>\n",
          out);
}

/* Write the page: the SVG inline, a panel for the detail, a few lines of script. */
int ladder_html_write(FILE *out, struct ladder_exchange *const *ex, int count)
{
    fputs(head, out);
    intro(out, ex, count);
    fputs("<div id=\"detail\">Hover over or click an arrow to see its packet.</div>\n", out);
    if (ladder_svg_body(out, ex, count) != 0)
        return -1;
    fputs(script, out);
    fputs("</body>\n</html>\n", out);
    return ferror(out) ? -1 : 0;
}
