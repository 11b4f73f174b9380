/* The network key and its files: subkeys against values computed independently (BLAKE2b with
 * the master key, the use's number as salt and "dhtnetk1" as personalisation, which is what
 * crypto_kdf is), the tag, and the key file: made once with mode 0600 and never overwritten;
 * refused when missing, malformed, a link, or readable by others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/net/netkey.h"

static void hex_equal(const uint8_t *got, size_t len, const char *want)
{
	char hex[2 * 64 + 1];
	sodium_bin2hex(hex, sizeof hex, got, len);
	assert_string_equal(hex, want);
}

static void test_subkeys_known_answers(void **state)
{
	(void)state;
	struct netkey k;
	uint8_t sub[32], tag[NETKEY_TAG_LEN];
	for (int i = 0; i < NETKEY_LEN; i++)
		k.key[i] = (uint8_t)i;
	netkey_derive(&k, NETKEY_DATAGRAM, sub, sizeof sub);
	hex_equal(sub, sizeof sub, "7a3dcdc0c05a5f933e7e8126c6a647cf90a3324887eea236c369dbf294235251");
	netkey_derive(&k, NETKEY_STREAM, sub, sizeof sub);
	hex_equal(sub, sizeof sub, "db218ab2856de2a01d162eb25e788fd36d4abb3e622a7973d9a5932d294ea7e3");
	netkey_tag(&k, tag);
	hex_equal(tag, sizeof tag, "82ff89a0"); /* the first bytes of a 16-byte subkey */
	netkey_wipe(&k);
	for (int i = 0; i < NETKEY_LEN; i++)
		assert_int_equal(k.key[i], 0);
}

/* A scratch directory for key files, removed by the test. */
static char dir[64];

/* NAME's path in the scratch directory; two buffers, so that one call may take two paths. */
static const char *path(const char *name)
{
	static char p[2][128];
	static int next;
	next = !next;
	snprintf(p[next], sizeof p[next], "%s/%s", dir, name);
	return p[next];
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	FILE *f = fopen(path(name), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path(name), mode), 0);
}

static void test_key_files(void **state)
{
	(void)state;
	struct netkey a, b;
	struct stat st;
	char err[512];
	snprintf(dir, sizeof dir, "/tmp/test_netkey.XXXXXX");
	assert_non_null(mkdtemp(dir));

	assert_int_equal(netkey_generate(path("k"), err, sizeof err), 0);
	assert_int_equal(stat(path("k"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(netkey_load(path("k"), &a, err, sizeof err), 0);
	/* Never over an existing file, and the key in it stays. */
	assert_int_equal(netkey_generate(path("k"), err, sizeof err), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(netkey_load(path("k"), &b, err, sizeof err), 0);
	assert_memory_equal(a.key, b.key, NETKEY_LEN);

	assert_int_equal(netkey_load(path("none"), &b, err, sizeof err), -1);
	assert_non_null(strstr(err, "keygen"));
	write_file("short", "00112233\n", 0600);
	assert_int_equal(netkey_load(path("short"), &b, err, sizeof err), -1);
	assert_non_null(strstr(err, "64 hex digits"));
	write_file("long", "0000000000000000000000000000000000000000000000000000000000000000\nxx",
		   0600);
	assert_int_equal(netkey_load(path("long"), &b, err, sizeof err), -1);
	write_file("open", "0000000000000000000000000000000000000000000000000000000000000000\n",
		   0640);
	assert_int_equal(netkey_load(path("open"), &b, err, sizeof err), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(symlink(path("k"), path("link")), 0);
	assert_int_equal(netkey_load(path("link"), &b, err, sizeof err), -1);
	assert_non_null(strstr(err, "symbolic link"));

	const char *names[] = { "k", "short", "long", "open", "link" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(path(names[i]));
	assert_int_equal(rmdir(dir), 0);
}

/* systemd's LoadCredential= copy: group-readable (an ACL's mask) is fine there, and only there,
 * while the directory is closed to others; a link is refused there too. */
static void test_credential_dir(void **state)
{
	(void)state;
	struct netkey k;
	char err[512];
	snprintf(dir, sizeof dir, "/tmp/test_netkey.XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file("network-key",
		   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0440);

	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	assert_int_equal(netkey_load(path("network-key"), &k, err, sizeof err), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(netkey_load(path("network-key"), &k, err, sizeof err), 0);
	assert_int_equal(k.key[1], 0x11);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(netkey_load(path("network-key"), &k, err, sizeof err), -1);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(chmod(path("network-key"), 0444), 0);
	assert_int_equal(netkey_load(path("network-key"), &k, err, sizeof err), -1);
	assert_int_equal(symlink(path("network-key"), path("link")), 0);
	assert_int_equal(netkey_load(path("link"), &k, err, sizeof err), -1);
	assert_non_null(strstr(err, "symbolic link"));

	unlink(path("link"));
	unlink(path("network-key"));
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subkeys_known_answers),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_credential_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
