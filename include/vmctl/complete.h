/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_COMPLETE_H
#define VMCTL_COMPLETE_H

#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/strv.h"

/*
 * Shell completion.  The bash, zsh and fish scripts (`vmctl completion
 * SHELL`) are thin: at each TAB they run `vmctl __complete WORD...` with
 * the words after "vmctl" (the last one the word being completed, maybe
 * empty), which prints one candidate a line, "WORD<TAB>DESCRIPTION" where
 * there is a description.  The candidates come from the command table:
 * command names, global options, each command's long options (its
 * `options`), and its operands as its usage spells them: NAME (VMs, from
 * `vmctl list --json`), SPEC (*.yaml, *.yml, *.json files), SELECTOR and
 * ADDRESS (GPUs, from `vmctl gpu list --json`), SNAP (the VM's snapshots,
 * from `vmctl snapshot list NAME --json`), FILE and DIR, and literal
 * subcommands.
 */

/* One operand of a usage string, what completes there. */
enum complete_kind {
	COMPLETE_NONE,
	COMPLETE_WORDS,      /* literal subcommands or choices */
	COMPLETE_VM,
	COMPLETE_SPEC,
	COMPLETE_GPU,
	COMPLETE_SNAPSHOT,
	COMPLETE_FILE,
	COMPLETE_DIR,
};

/*
 * Pure: what the operand after `done` (the operands typed so far) may be,
 * by cmd->usage; literal words are added to `words`.  *vm_name gets the
 * operand that names the VM (for SNAP), or NULL.
 */
enum complete_kind complete_operand(const struct cmd_entry *cmd,
				    char *const *done, size_t n_done,
				    struct strv *words,
				    const char **vm_name);

/* Does --OPT (no "=VALUE") of cmd, or a global one, take an argument? */
bool complete_option_takes_arg(const struct cmd_entry *cmd, const char *opt);

int complete_main(int argc, char **argv);
/* Print the script for "bash", "zsh" or "fish"; -1 for another shell. */
int complete_script(FILE *out, const char *shell);

#endif
