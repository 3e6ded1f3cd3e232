// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel command line edits: only the arguments asked for change. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/bootcfg.h"
#include "vmctl/kcmdline.h"

static const struct karg iommu[] = {
	{ "intel_iommu", "on" },
	{ "iommu", "pt" },
	{ "vfio-pci.ids", "10de:1b82,10de:10f0" },
};

static void check(const char *name, char *got, const char *want)
{
	is_str(got, want, "%s", name);
	free(got);
}

static void test_words(void)
{
	struct strv w = { 0 };
	char *s;

	kcmdline_split("  quiet  \"acpi_osi=Windows 2020\" a=1\tb ", &w);
	ok(w.n == 4 && strcmp(w.v[1], "\"acpi_osi=Windows 2020\"") == 0,
	   "quoted word kept whole");
	ok(kcmdline_set(&w, "a", "2") && strcmp(w.v[2], "a=2") == 0,
	   "value replaced in place");
	ok(!kcmdline_set(&w, "a", "2"), "setting the same value is no change");
	strv_push(&w, "vfio_pci.ids=1:2");
	strv_push(&w, "vfio-pci.ids=3:4");
	ok(kcmdline_set(&w, "vfio-pci.ids", "5:6") && w.n == 5,
	   "'-' and '_' are one key; duplicates collapse");
	is_str(kcmdline_get(&w, "acpi_osi"), "Windows 2020\"",
	       "get through quotes");
	ok(kcmdline_remove(&w, "vfio_pci.ids") && w.n == 4, "remove");
	s = kcmdline_join(&w);
	is_str(s, "quiet \"acpi_osi=Windows 2020\" a=2 b", "join");
	free(s);
	strv_clear(&w);
}

static bool has(const char *line, const char *word)
{
	struct strv words = { 0 }, want = { 0 };
	bool r;

	kcmdline_split(line, &words);
	strv_push(&want, word);
	r = kcmdline_has_all(&words, &want);
	strv_clear(&words);
	strv_clear(&want);
	return r;
}

/* host-setup used strstr() to ask whether an argument was there, so
 * "vfio-pci.ids=A" was found inside "vfio-pci.ids=A,B" (and a grubby or
 * kernelstub host with other ids kept them instead of ours). */
static void test_whole_words(void)
{
	const char *line = "quiet \"acpi_osi=Windows 2020\" "
			   "vfio-pci.ids=10de:1b80,10de:10f0 "
			   "intel_iommu=on,igfx_off";

	ok(!has(line, "vfio-pci.ids=10de:1b80"), "ids: a prefix is not there");
	ok(!has(line, "vfio-pci.ids=10de:10f0"), "ids: a part is not there");
	ok(has(line, "vfio_pci.ids=10de:1b80,10de:10f0"),
	   "ids: the same list, '-' and '_' alike");
	ok(!has(line, "intel_iommu=on"), "intel_iommu=on is not on,igfx_off");
	ok(!has(line, "quie"), "a word's prefix is not the word");
	ok(has(line, "acpi_osi=Windows 2020"), "quotes ignored");
	ok(!has(line, "iommu=pt") && !has("iommu", "iommu=pt") &&
	   !has("iommu=pt", "iommu"), "flag and key=value differ");
}

static void test_spacing(void)
{
	check("blanks between other words kept; a value replaced in place",
	      bootcfg_edit_words("quiet   iommu=soft\tsplash", iommu + 1, 1),
	      "quiet   iommu=pt\tsplash");
	check("values replaced, not duplicated; others appended",
	      bootcfg_edit_words("quiet iommu=soft splash intel_iommu=off",
				 iommu, 3),
	      "quiet iommu=pt splash intel_iommu=on "
	      "vfio-pci.ids=10de:1b82,10de:10f0");
	{
		bool found;
		char *s = bootcfg_replace_word("a  iommu=pt  b", "iommu=pt", "",
					       &found);

		is_str(s, "a  b", "undo: a word vmctl added goes with the "
		       "blanks before it");
		free(s);
		s = bootcfg_replace_word("\"x y\" iommu=pt", "iommu=pt",
					 "iommu=soft", &found);
		is_str(s, "\"x y\" iommu=soft", "undo: a word put back");
		free(s);
		s = bootcfg_replace_word("iommu=ptx", "iommu=pt", "", &found);
		ok(!found && strcmp(s, "iommu=ptx") == 0,
		   "undo: only a whole word");
		free(s);
	}
	check("a duplicate goes with the blanks before it",
	      bootcfg_edit_cmdline("a  iommu=soft  b   iommu=on  c\n", iommu + 1,
				   1),
	      "a  iommu=pt  b  c\n");
	check("loader entry spacing and quotes kept",
	      bootcfg_edit_entry("options   root=\"LABEL=arch os\"  rw\n",
				 iommu, 1),
	      "options   root=\"LABEL=arch os\"  rw intel_iommu=on\n");
}

static void test_others(void)
{
	check("/etc/kernel/cmdline",
	      bootcfg_edit_cmdline("root=UUID=abc rw quiet\n", iommu, 2),
	      "root=UUID=abc rw quiet intel_iommu=on iommu=pt\n");
	check("loader entry options line",
	      bootcfg_edit_entry("title   Arch Linux\nlinux   /vmlinuz-linux\n"
				 "options root=/dev/sda2 rw\n", iommu, 2),
	      "title   Arch Linux\nlinux   /vmlinuz-linux\n"
	      "options root=/dev/sda2 rw intel_iommu=on iommu=pt\n");
}

int main(void)
{
	test_words();
	test_whole_words();
	test_spacing();
	test_others();
	return tap_done();
}
