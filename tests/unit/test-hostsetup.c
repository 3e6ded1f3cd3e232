// SPDX-License-Identifier: GPL-2.0-or-later
/* host-setup's pure parts: modules.alias matching. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/hostsetup-facts.h"
#include "vmctl/kcmdline.h"

static const char alias[] =
	"# Aliases extracted from modules themselves.\n"
	"alias fs-ext4 ext4\n"
	"alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n"
	"alias pci:v000010DEd00001B80sv*sd*bc*sc*i* nvidia-drm\n"
	"alias pci:v*d*sv*sd*bc04sc03i00* snd_hda_intel\n"
	"alias pci:v000010DEd*sv*sd*bc04sc03i00* snd_hda_intel\n"
	"alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
	"alias pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
	"alias pci:v*d*sv*sd*bc*sc*i* pci_stub\n"
	"alias pci:v00001002d*sv*sd*bc03sc*i* radeon\n";

static char *match(const char *modalias)
{
	struct strv mods = { 0 };
	char *s;

	hostsetup_alias_match(alias, modalias, &mods);
	s = kcmdline_join(&mods);
	strv_clear(&mods);
	return s;
}

static void test_alias(void)
{
	char *s;

	s = match("pci:v000010DEd00001B80sv00001458sd00003702bc03sc00i00");
	is_str(s, "nouveau nvidia_drm", "the GPU: every matching module, "
	       "'-' written '_', vfio-pci and pci-stub left out");
	free(s);
	s = match("pci:v000010DEd000010F0sv00001458sd00003702bc04sc03i00");
	is_str(s, "snd_hda_intel", "HDMI audio: snd_hda_intel, once");
	free(s);
	s = match("pci:v000010DEd00001B80");
	is_str(s, "", "a modalias the patterns do not match whole");
	free(s);
}

int main(void)
{
	test_alias();
	return tap_done();
}
