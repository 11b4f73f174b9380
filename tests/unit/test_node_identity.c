/* The data directory and the key file: default paths, the key file's text (round trip, and
 * every kind of damage refused), and load-or-create in a scratch directory: created once with
 * mode 0600, the same key after, a damaged file refused rather than replaced, a second lock
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node/identity.h"

static void test_default_dir(void **state)
{
	(void)state;
	char out[128];
	assert_int_equal(datadir_default(out, sizeof out, "/st", "/home/u", "127.0.0.2-4000"), 0);
	assert_string_equal(out, "/st/dhtnode/127.0.0.2-4000");
	assert_int_equal(datadir_default(out, sizeof out, NULL, "/home/u", "127.0.0.3-4000"), 0);
	assert_string_equal(out, "/home/u/.local/state/dhtnode/127.0.0.3-4000");
	/* A relative XDG_STATE_HOME is invalid by the XDG spec and ignored. */
	assert_int_equal(datadir_default(out, sizeof out, "rel", "/home/u", "10.0.0.1-1"), 0);
	assert_string_equal(out, "/home/u/.local/state/dhtnode/10.0.0.1-1");
	assert_int_equal(datadir_default(out, sizeof out, "", "", "[::1]-65535"), 0);
	assert_string_equal(out, "./dhtnode-data-[::1]-65535");
	assert_int_equal(datadir_default(out, sizeof out, NULL, NULL, "10.0.0.1-2"), 0);
	assert_string_equal(out, "./dhtnode-data-10.0.0.1-2");
	assert_int_equal(datadir_default(out, 10, "/st", NULL, "127.0.0.1-4000"), -1);
}

static void make_identity(struct identity *id, uint8_t fill)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	memset(seed, fill, sizeof seed);
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
}

static void test_codec(void **state)
{
	(void)state;
	struct identity id, back;
	char text[IDENTITY_TEXT_MAX];
	make_identity(&id, 7);
	int n = identity_encode(&id, text, sizeof text);
	assert_true(n > 0);
	assert_int_equal(identity_decode(text, (size_t)n, &back), 0);
	assert_memory_equal(&id, &back, sizeof id);
	assert_int_equal(identity_encode(&id, text, 100), -1);

	/* Every truncation fails, and so does every single-character change that is not a hex
	 * case change (the public key must match the seed). */
	char bad[IDENTITY_TEXT_MAX];
	identity_encode(&id, text, sizeof text);
	for (int len = 0; len < n; len++)
		assert_int_equal(identity_decode(text, (size_t)len, &back), -1);
	for (int i = 0; i < n; i++) {
		memcpy(bad, text, (size_t)n);
		bad[i] = bad[i] == '0' ? '1' : '0';
		assert_int_equal(identity_decode(bad, (size_t)n, &back), -1);
	}
	memcpy(bad, text, (size_t)n);
	bad[n] = '\n';
	assert_int_equal(identity_decode(bad, (size_t)n + 1, &back), -1);
}

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_node_identity-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_load_create(void **state)
{
	(void)state;
	char err[512], path[256], sub[128];
	struct identity a, b;
	struct stat st;
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	int lock = datadir_open(sub, err, sizeof err);
	assert_true(lock >= 0);
	assert_int_equal(identity_load(sub, &a, err, sizeof err), IDENTITY_CREATED);
	snprintf(path, sizeof path, "%s/%s", sub, IDENTITY_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(identity_load(sub, &b, err, sizeof err), IDENTITY_LOADED);
	assert_memory_equal(&a, &b, sizeof a);

	/* A damaged key is refused and left in place. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("dhtnode-identity 1\nnot a key\n", f);
	fclose(f);
	assert_int_equal(identity_load(sub, &b, err, sizeof err), IDENTITY_FAILED);
	assert_non_null(strstr(err, "damaged"));
	assert_int_equal(stat(path, &st), 0);
	close(lock);
}

/* The lock is per process (fcntl), so the second taker must be another process. */
static void test_lock(void **state)
{
	(void)state;
	char err[512];
	int lock = datadir_open(dir, err, sizeof err);
	assert_true(lock >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(datadir_open(dir, err, sizeof err) < 0 && strstr(err, "in use") ? 0 : 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lock);
}

static void test_not_a_dir(void **state)
{
	(void)state;
	char err[512], file[128], sub[256];
	snprintf(file, sizeof file, "%s/plain", dir);
	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(datadir_open(file, err, sizeof err), -1);
	assert_non_null(strstr(err, "--data-dir"));
	snprintf(sub, sizeof sub, "%s/inside", file);
	assert_int_equal(datadir_open(sub, err, sizeof err), -1);
	assert_non_null(strstr(err, "--data-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_dir),
		cmocka_unit_test(test_codec),
		cmocka_unit_test_setup_teardown(test_load_create, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_lock, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_not_a_dir, make_dir, remove_dir),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
