#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Keep src/ calling libvirt, libxml2, libcurl, libcrypto and libisofs
through lazylib.h.

Every call FUNC( of those libraries in src/*.c becomes sym_FUNC(, and the
X-macro lists in include/vmctl/lazylib.h are rewritten to hold exactly the
functions src/ calls.  Run it after adding a call (make checks that it has
nothing left to do: `scripts/lazylib-calls.py --check`).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "include/vmctl/lazylib.h"
# Called through wrappers of lazylib.c, not through a resolved pointer.
WRAPPED = {"xmlReadMemory", "xmlFree"}
LISTS = [
    ("LAZYLIB_LIBVIRT_FUNCS", re.compile(r"vir(?!DomainQemu)[A-Z]\w*")),
    ("LAZYLIB_LIBVIRT_QEMU_FUNCS", re.compile(r"virDomainQemu\w*")),
    ("LAZYLIB_LIBXML_FUNCS", re.compile(r"xml[A-Z]\w*")),
    ("LAZYLIB_CURL_FUNCS", re.compile(r"curl_[a-z_]+")),
    ("LAZYLIB_CRYPTO_FUNCS", re.compile(r"(?:EVP|RAND|OPENSSL)_\w+")),
    ("LAZYLIB_ISOFS_FUNCS", re.compile(r"iso_[a-z_]+")),
]
# Comments and literals are matched first so that what they say is left
# alone; a call is FUNC( or sym_FUNC( (already rewritten).
TOKEN = re.compile(r"""
      /\*.*?\*/ | //[^\n]* | "(?:\\.|[^"\\\n])*" | '(?:\\.|[^'\\\n])*'
    | (?<![\w.>])(?:sym_)?(?P<call>(?:vir|xml)[A-Z]\w*|curl_[a-z_]+
                                 |(?:EVP|RAND|OPENSSL)_\w+|iso_[a-z_]+)\s*\(
    | (?<![\w.>])(?P<var>virConnectAuthPtrDefault)(?!\w)
""", re.S | re.X)


def width(indent):
    """The visual width of leading whitespace (tabs of 8)."""
    col = 0
    for ch in indent:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def indent_to(col):
    return "\t" * (col // 8) + " " * (col % 8)


def realign(new, old):
    """Continuation lines aligned under a call's arguments move with it.

    A line of NEW whose indentation matched the column after the "(" of a
    call in OLD, within that call's parentheses, is re-indented to the
    column after the same "(" in NEW (which "sym_" moved right)."""
    out_lines = new.split("\n")
    old_lines = old.split("\n")
    if len(out_lines) != len(old_lines):
        return new
    for i, (nl, ol) in enumerate(zip(out_lines, old_lines)):
        if nl == ol:
            continue
        # each call rewritten on this line: its "(" in old and new
        for m in re.finditer(r"sym_(\w+)\s*\(", nl):
            before = nl[:m.end() - 1]
            newcol = width(before)
            added = before.count("sym_") - ol[:len(before)].count("sym_")
            oldcol = newcol - len("sym_") * max(added, 0)
            if oldcol == newcol:
                continue
            depth = 1
            j = i
            rest = nl[m.end():]
            while True:
                for ch in rest:
                    depth += ch == "("
                    depth -= ch == ")"
                    if depth == 0:
                        break
                if depth == 0 or j + 1 >= len(out_lines):
                    break
                j += 1
                line = out_lines[j]
                lead = line[:len(line) - len(line.lstrip())]
                if width(lead) == oldcol + 1:
                    out_lines[j] = indent_to(newcol + 1) + line.lstrip()
                rest = line
    return "\n".join(out_lines)


def add_include(text):
    """#include "vmctl/lazylib.h" in its sorted place among vmctl's."""
    mine = '#include "vmctl/lazylib.h"\n'
    incs = list(re.finditer(r'^#include "vmctl/([^"]+)"\n', text, re.M))
    for m in incs:
        if m.group(1) > "lazylib.h":
            return text[:m.start()] + mine + text[m.start():]
    at = incs[-1].end() if incs else 0
    return text[:at] + mine + text[at:]


def main():
    check = "--check" in sys.argv[1:]
    used = set()
    changed = []
    for path in sorted((ROOT / "src").glob("*.c")):
        if path.name == "lazylib.c":
            continue
        text = path.read_text()

        def repl(m):
            if m.group("var"):
                return "lazylib_virConnectAuthPtrDefault()"
            if m.group("call") is None:
                return m.group(0)      # a comment or a literal: as it is
            used.add(m.group("call"))
            return "sym_" + m.group("call") + "("

        new = realign(TOKEN.sub(repl, text), text)
        if new != text:
            if 'include "vmctl/lazylib.h"' not in new:
                new = add_include(new)
            changed.append(path.name)
            if not check:
                path.write_text(new)
    gen = []
    for name, pat in LISTS:
        fns = sorted(f for f in used if pat.fullmatch(f) and f not in WRAPPED)
        gen.append("#define %s(X) \\\n%s\n" % (
            name, " \\\n".join("\tX(%s)" % f for f in fns)))
    head = HEADER.read_text()
    begin = head.index("/* BEGIN generated")
    begin = head.index("\n", begin) + 1
    end = head.index("/* END generated */")
    newhead = head[:begin] + "\n".join(gen) + head[end:]
    if newhead != head:
        changed.append(HEADER.name)
        if not check:
            HEADER.write_text(newhead)
    if check and changed:
        print("lazylib-calls: run scripts/lazylib-calls.py (calls not "
              "through lazylib.h in: %s)" % ", ".join(changed), file=sys.stderr)
        return 1
    if changed:
        print("lazylib-calls: rewrote " + ", ".join(changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
