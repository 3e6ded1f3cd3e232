// SPDX-License-Identifier: GPL-2.0-or-later
/* Ed25519 key pairs made in process (sshkey.c): byte for byte what
 * ssh-keygen writes for the same key, and keys OpenSSH's own tools read
 * back. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/fsutil.h"
#include "vmctl/proc.h"
#include "vmctl/sshkey.h"
#include "vmctl/xalloc.h"

/*
 * Written by `ssh-keygen -q -t ed25519 -N "" -C COMMENT` (OpenSSH 9.2),
 * test keys only.  The first needs no padding in its private section, the
 * second five bytes of it.
 */
static const struct fixture {
	const char *comment, *private_text, *public_line;
} fixtures[] = {
	{ "vmctl-fixture",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	  "QyNTUxOQAAACCX0X7dzXGxwoqhJ4WdrZLDZlZkWi4B11UAqLsR8wLgjQAAAJCaf+oRmn/q\n"
	  "EQAAAAtzc2gtZWQyNTUxOQAAACCX0X7dzXGxwoqhJ4WdrZLDZlZkWi4B11UAqLsR8wLgjQ\n"
	  "AAAEDNOtmmlBuwxZgyTCCR93qCVfQAcvjI+cwGZNg4FWEKc5fRft3NcbHCiqEnhZ2tksNm\n"
	  "VmRaLgHXVQCouxHzAuCNAAAADXZtY3RsLWZpeHR1cmU=\n"
	  "-----END OPENSSH PRIVATE KEY-----\n",
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJfRft3NcbHCiqEnhZ2tksNmVmRaLgHXVQ"
	  "CouxHzAuCN vmctl-fixture\n" },
	{ "root@vm1",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	  "QyNTUxOQAAACBSAZUMYE3fyY8Di/oLBWjfhYkTDAp16f8PbMnSzLjE8gAAAJAO5kzODuZM\n"
	  "zgAAAAtzc2gtZWQyNTUxOQAAACBSAZUMYE3fyY8Di/oLBWjfhYkTDAp16f8PbMnSzLjE8g\n"
	  "AAAECeYAakdKHsRpO3AzIZeQaL22QU+VDmcE16toQ3Z20H1VIBlQxgTd/JjwOL+gsFaN+F\n"
	  "iRMMCnXp/w9sydLMuMTyAAAACHJvb3RAdm0xAQIDBAU=\n"
	  "-----END OPENSSH PRIVATE KEY-----\n",
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFIBlQxgTd/JjwOL+gsFaN+FiRMMCnXp/w"
	  "9sydLMuMTy root@vm1\n" },
};

/* The fixture's container, decoded (its base64 lines joined). */
static size_t decode(const char *text, unsigned char *out, size_t max)
{
	char b64[1024] = "";
	const char *p = strchr(text, '\n') + 1;
	const char *end = strstr(text, "-----END");
	int n;

	for (; p < end; p = strchr(p, '\n') + 1)
		strncat(b64, p, strcspn(p, "\n"));
	n = EVP_DecodeBlock(out, (unsigned char *)b64, (int)strlen(b64));
	if (n < 0 || (size_t)n > max)
		return 0;
	/* EVP_DecodeBlock counts the '=' padding as zero bytes */
	for (const char *q = b64 + strlen(b64); q > b64 && q[-1] == '='; q--)
		n--;
	return (size_t)n;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Where the seed, public key and check number lie in an unencrypted
 * container with one Ed25519 key: magic (15), "none" twice (16), empty KDF
 * options (4), count (4), the public blob (4 + 51), the private section's
 * length (4): then check, check, type (4 + 11), public key (4 + 32), secret
 * (4 + seed + public key).
 */
enum { PRIV = 15 + 16 + 4 + 4 + 55 + 4, CHECK = PRIV,
       PUB = PRIV + 8 + 15 + 4, SEED = PUB + 32 + 4 };

static void test_same_as_ssh_keygen(void)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *f = &fixtures[i];
		unsigned char raw[768];
		size_t n = decode(f->private_text, raw, sizeof(raw));
		struct sshkey_pair k = { 0 };

		if (!ok(n > SEED + 32 && memcmp(raw, "openssh-key-v1", 15) ==
						 0,
			"fixture %zu decodes", i))
			continue;
		sshkey_format(raw + SEED, raw + PUB, be32(raw + CHECK),
			      f->comment, &k);
		is_str(k.private_text, f->private_text,
		       "private key file as ssh-keygen wrote it (%s)",
		       f->comment);
		is_str(k.public_line, f->public_line,
		       "public key line as ssh-keygen wrote it (%s)",
		       f->comment);
		sshkey_pair_clear(&k);
		ok(k.private_text == NULL && k.public_line == NULL,
		   "cleared");
	}
}

/* A test's own script (sh -c): its stdout, and its status in *status. */
static char *sh(const char *script, int *status)
{
	struct strv argv = { 0 };
	struct proc_result r;
	struct vmctl_error *err = NULL;
	char *out = NULL;

	strv_push(&argv, "sh");
	strv_push(&argv, "-c");
	strv_push(&argv, script);
	*status = -1;
	if (proc_run(&argv, &r, &err) == 0) {
		*status = r.status;
		out = xstrdup(r.out);
		proc_result_clear(&r);
	}
	vmctl_error_free(err);
	strv_clear(&argv);
	return out;
}

static void test_generate(void)
{
	char dir[] = "/tmp/vmctl-test-sshkey.XXXXXX";
	struct sshkey_pair a = { 0 }, b = { 0 };
	struct vmctl_error *err = NULL;
	cleanup_free char *priv = NULL, *pub = NULL, *derived = NULL;
	cleanup_free char *listed = NULL, *signed_ok = NULL;
	cleanup_free char *script = NULL;
	struct stat st;
	int status;

	ok(sshkey_generate("vmctl-t1", &a, &err) == 0 &&
	   sshkey_generate("vmctl-t1", &b, &err) == 0, "two keys generated");
	ok(strncmp(a.public_line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI",
		   37) == 0 &&
	   strcmp(a.public_line + strlen(a.public_line) - 10, " vmctl-t1\n")
		   == 0,
	   "public line: type, blob, comment (%s)", a.public_line);
	ok(strcmp(a.public_line, b.public_line) != 0 &&
	   strcmp(a.private_text, b.private_text) != 0,
	   "each key its own");
	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	ok(sshkey_write(dir, "id", &a, &err) == 0, "written");
	priv = xasprintf("%s/id", dir);
	pub = xasprintf("%s/id.pub", dir);
	ok(stat(priv, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "private key file 0600");
	ok(stat(pub, &st) == 0 && (st.st_mode & 0777) == 0644,
	   "public key file 0644");

	/* OpenSSH's own reader: the public key it finds in the private file
	 * is the one written beside it, the fingerprint line names the
	 * key's comment, and a signature made with the private key checks
	 * out against the public one (the seed belongs to that key). */
	if (access("/usr/bin/ssh-keygen", X_OK) != 0) {
		printf("# skip: no ssh-keygen\n");
	} else {
		script = xasprintf("ssh-keygen -y -f '%s'", priv);
		derived = sh(script, &status);
		ok(status == 0 && derived != NULL &&
		   strncmp(derived, a.public_line,
			   strlen(a.public_line) - strlen(" vmctl-t1\n")) ==
			   0,
		   "ssh-keygen -y reads the private key: the same public "
		   "key (%s)", derived ? derived : "");
		free(script);
		script = xasprintf("ssh-keygen -l -f '%s'", priv);
		listed = sh(script, &status);
		ok(status == 0 && listed != NULL &&
		   strstr(listed, " vmctl-t1 (ED25519)") != NULL,
		   "ssh-keygen -l: an ED25519 key with its comment (%s)",
		   listed ? listed : "");
		free(script);
		script = xasprintf("cd '%s' && echo data > f && "
				   "ssh-keygen -q -Y sign -f id -n file f && "
				   "ssh-keygen -Y check-novalidate -n file "
				   "-s f.sig < f", dir);
		signed_ok = sh(script, &status);
		ok(status == 0, "a signature made with it verifies (%s)",
		   signed_ok ? signed_ok : "");
	}
	sshkey_pair_clear(&a);
	sshkey_pair_clear(&b);
	vmctl_error_free(err);
	fs_remove_tree(dir, NULL);
}

int main(void)
{
	test_same_as_ssh_keygen();
	test_generate();
	return tap_done();
}
