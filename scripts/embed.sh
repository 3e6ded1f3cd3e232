#!/bin/sh
# Turn a file into a C array: scripts/embed.sh FILE SYMBOL > out.c
# Used by the Makefile to compile configs/default.yaml into vmctl.
set -eu
file=$1
sym=$2
printf '/* Generated from %s by scripts/embed.sh; do not edit. */\n' "$file"
printf '#include <stddef.h>\n\nconst char %s[] = {\n' "$sym"
od -An -v -tx1 "$file" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1, /g' -e 's/^/\t/' -e 's/, $/,/'
printf '\t0x00\n};\nconst size_t %s_len = sizeof(%s) - 1;\n' "$sym" "$sym"
