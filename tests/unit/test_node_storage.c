/* node/disk/storage.c, scan.c and treemeta.c on a real temporary directory: the scan of a tree
 * (path order, sizes, directories, executable bits, skipped links and FIFOs named, refusals), a
 * shared file's identity checked after a change in place, a fetched tree's directories, modes
 * and times, the layout of a multi-file stream (writes and reads across file borders,
 * spans for workers, holes that a resume may skip), a single file as its own root, the content
 * name of a manifest, file maps, and the move of a finished download. */
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
#include <unistd.h>

#include "node/disk/storage.h"
#include "node/disk/treemeta.h"
#include "transfer/layout.h"

struct tmp {
	char dir[256];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof *t);
	snprintf(t->dir, sizeof t->dir, "/tmp/test_node_storage.XXXXXX");
	if (t == NULL || mkdtemp(t->dir) == NULL)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	int rc = system(cmd);
	free(t);
	return rc == 0 ? 0 : -1;
}

static void put_file(const char *dir, const char *rel, const char *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_scan_tree(void **state)
{
	struct tmp *t = *state;
	char root[300], err[STORAGE_ERR_MAX], link[400];
	struct share_scan sc;
	snprintf(root, sizeof root, "%s/share", t->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	put_file(root, "b", "bbb", 3);
	put_file(root, "a.txt", "aaaa", 4);
	snprintf(link, sizeof link, "%s/sub", root);
	assert_int_equal(mkdir(link, 0755), 0);
	put_file(root, "sub/x", "xx", 2);
	put_file(root, "empty", "", 0);
	snprintf(link, sizeof link, "%s/link", root);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	snprintf(link, sizeof link, "%s/sub/fifo", root);
	assert_int_equal(mkfifo(link, 0644), 0);
	snprintf(link, sizeof link, "%s/void", root);
	assert_int_equal(mkdir(link, 0755), 0);
	snprintf(link, sizeof link, "%s/b", root);
	assert_int_equal(chmod(link, 0755), 0);

	assert_int_equal(storage_scan(root, &sc, err, sizeof err), 0);
	assert_int_equal(sc.n, 4);
	assert_int_equal(sc.skipped, 2);
	assert_int_equal(sc.nskip, 2);
	bool saw_link = false, saw_fifo = false;
	for (uint32_t i = 0; i < sc.nskip; i++) {
		saw_link |= !strcmp(sc.skip[i].path, "share/link") && !strcmp(sc.skip[i].why, "a symlink");
		saw_fifo |= !strcmp(sc.skip[i].path, "share/sub/fifo") && !strcmp(sc.skip[i].why, "a FIFO");
	}
	assert_true(saw_link && saw_fifo);
	/* Every directory, the empty one and the root too, in path order. */
	assert_int_equal(sc.ndirs, 3);
	assert_string_equal(sc.dir[0], "share");
	assert_string_equal(sc.dir[1], "share/sub");
	assert_string_equal(sc.dir[2], "share/void");
	assert_int_equal(sc.mode[0], 0);
	assert_int_equal(sc.mode[1], MANIFEST_MODE_EXEC); /* b, 0755 */
	assert_int_equal(sc.total, 9);
	/* Path order: "share/sub/x" sorts before "share/sub.." would, and '/' below every byte. */
	assert_string_equal(sc.path[0], "share/a.txt");
	assert_string_equal(sc.path[1], "share/b");
	assert_string_equal(sc.path[2], "share/empty");
	assert_string_equal(sc.path[3], "share/sub/x");
	assert_int_equal(sc.size[0], 4);
	assert_int_equal(sc.size[3], 2);
	assert_true(sc.mtime_ns[0] > 0);
	share_scan_free(&sc);
}

static void test_scan_refusals(void **state)
{
	struct tmp *t = *state;
	char path[300], err[STORAGE_ERR_MAX];
	struct share_scan sc;
	assert_int_equal(storage_scan("relative/path", &sc, err, sizeof err), -1);
	assert_non_null(strstr(err, "absolute"));
	snprintf(path, sizeof path, "%s/missing", t->dir);
	assert_int_equal(storage_scan(path, &sc, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	put_file(t->dir, "zero", "", 0);
	snprintf(path, sizeof path, "%s/zero", t->dir);
	assert_int_equal(storage_scan(path, &sc, err, sizeof err), -1);
	assert_non_null(strstr(err, "nothing to share"));
}

/* Three files of 5, 0 and 7 bytes under DIR/tree: 12 bytes of stream. */
static struct storage *three_files(const char *dir, bool writable)
{
	static const char *const paths[] = { "tree/a", "tree/b/empty", "tree/c" };
	static const uint64_t sizes[] = { 5, 0, 7 };
	char root[300];
	snprintf(root, sizeof root, "%s/tree", dir);
	return storage_new(root, 3, paths, sizes, true, writable);
}

static void test_write_read_across_files(void **state)
{
	struct tmp *t = *state;
	char err[STORAGE_ERR_MAX], path[300];
	uint8_t buf[12];
	struct storage *st = three_files(t->dir, true);
	assert_non_null(st);
	assert_int_equal(storage_total_size(st), 12);
	/* Parent directories are created on the way. */
	assert_int_equal(storage_write(st, 3, "DEFGHIJ", 7, err, sizeof err), 0);
	assert_int_equal(storage_write(st, 0, "ABC", 3, err, sizeof err), 0);
	assert_int_equal(storage_write(st, 10, "KL", 2, err, sizeof err), 0);
	assert_int_equal(storage_read(st, 0, buf, 12, err, sizeof err), 0);
	assert_memory_equal(buf, "ABCDEFGHIJKL", 12);
	assert_int_equal(storage_write(st, 11, "XY", 2, err, sizeof err), -1);
	storage_free(st);
	snprintf(path, sizeof path, "%s/tree/c", t->dir);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 7);

	/* Read-only, a file shorter than its manifest size is an error that names it. */
	st = three_files(t->dir, false);
	assert_int_equal(truncate(path, 3), 0);
	assert_int_equal(storage_read(st, 0, buf, 12, err, sizeof err), -1);
	assert_non_null(strstr(err, "tree/c"));
	storage_free(st);
}

static void test_spans_and_holes(void **state)
{
	struct tmp *t = *state;
	char err[STORAGE_ERR_MAX];
	uint8_t buf[8];
	struct storage *st = three_files(t->dir, true);
	struct span_list l;
	assert_int_equal(storage_spans(st, 2, 8, &l), 0);
	assert_int_equal(l.n, 2); /* the empty file is left out */
	assert_non_null(strstr(l.v[0].path, "tree/a"));
	assert_int_equal(l.v[0].file_off, 2);
	assert_int_equal(l.v[0].len, 3);
	assert_non_null(strstr(l.v[1].path, "tree/c"));
	assert_int_equal(l.v[1].file_off, 0);
	assert_int_equal(l.v[1].len, 5);

	/* Nothing written yet: all holes. Then what is written reads back through the spans. */
	struct span_reader r;
	span_reader_init(&r, &l);
	assert_true(span_has_hole(&r, 2, 8));
	assert_int_equal(storage_write(st, 0, "0123456789ab", 12, err, sizeof err), 0);
	assert_false(span_has_hole(&r, 2, 8));
	assert_int_equal(span_read(&r, 2, buf, 8, err, sizeof err), 0);
	assert_memory_equal(buf, "23456789", 8);
	span_reader_close(&r);
	span_list_free(&l);
	assert_int_equal(storage_spans(st, 8, 5, &l), -1); /* past the end */

	struct span_list all;
	assert_int_equal(storage_all_paths(st, &all), 0);
	assert_int_equal(all.n, 3);
	assert_non_null(strstr(all.v[1].path, "tree/b/empty"));
	span_list_free(&all);
	storage_free(st);
}

static void test_single_file_and_move(void **state)
{
	struct tmp *t = *state;
	static const char *const paths[] = { "movie.bin" };
	static const uint64_t sizes[] = { 4 };
	char part[300], final[300], err[STORAGE_ERR_MAX];
	uint8_t buf[4];
	snprintf(part, sizeof part, "%s/.movie.bin.part", t->dir);
	snprintf(final, sizeof final, "%s/movie.bin", t->dir);
	struct storage *st = storage_new(part, 1, paths, sizes, true, true);
	assert_string_equal(storage_root(st), part);
	assert_int_equal(storage_write(st, 0, "data", 4, err, sizeof err), 0);
	assert_int_equal(rename(part, final), 0);
	assert_int_equal(storage_move(st, final), 0);
	assert_int_equal(storage_read(st, 0, buf, 4, err, sizeof err), 0);
	assert_memory_equal(buf, "data", 4);
	assert_int_equal(storage_write(st, 0, "x", 1, err, sizeof err), -1); /* read-only now */
	storage_free(st);
}

static void test_map(void **state)
{
	struct tmp *t = *state;
	static const char *const paths[] = { "big", "small" };
	const uint64_t sizes[] = { 2u << 20, 100 };
	char err[STORAGE_ERR_MAX];
	struct storage *st = storage_new(t->dir, 2, paths, sizes, false, true);
	struct fmap *m = NULL;
	uint8_t *data = malloc(sizes[0] + sizes[1]);
	for (size_t i = 0; i < sizes[0] + sizes[1]; i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(storage_write(st, 0, data, sizes[0] + sizes[1], err, sizeof err), 0);
	const uint8_t *p = storage_map(st, 1000, 16384, &m);
	assert_non_null(p);
	assert_non_null(m);
	assert_memory_equal(p, data + 1000, 16384);
	/* The map outlives the storage while someone holds it. */
	fmap_ref(m);
	storage_free(st);
	assert_memory_equal(p, data + 1000, 16384);
	fmap_unref(m);
	st = storage_new(t->dir, 2, paths, sizes, false, false);
	assert_null(storage_map(st, sizes[0] - 10, 20, &m));  /* across files */
	assert_null(storage_map(st, sizes[0] + 10, 20, &m));  /* a small file */
	storage_free(st);
	free(data);
}

static void test_content_name(void **state)
{
	(void)state;
	uint8_t h[MANIFEST_HASH_LEN] = { 0 };
	struct manifest_builder *b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	assert_int_equal(manifest_builder_add_file(b, "dir/a", 10), 0);
	assert_int_equal(manifest_builder_add_file(b, "dir/z/b", 10), 0);
	assert_int_equal(manifest_builder_add_hash(b, h), 0);
	struct manifest *m = manifest_builder_finish(b);
	manifest_builder_free(b);
	char *name = layout_content_name(m);
	assert_string_equal(name, "dir");
	free(name);
	manifest_free(m);

	b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	assert_int_equal(manifest_builder_add_file(b, "a/x", 10), 0);
	assert_int_equal(manifest_builder_add_file(b, "b/y", 10), 0);
	assert_int_equal(manifest_builder_add_hash(b, h), 0);
	m = manifest_builder_finish(b);
	manifest_builder_free(b);
	assert_null(layout_content_name(m)); /* no common root: the caller names it */
	manifest_free(m);
}

/* A shared file changed in place (same size, same inode) is found by its time; one replaced
 * under its name by its inode. */
static void test_check_identity(void **state)
{
	struct tmp *t = *state;
	uint32_t file = 99;
	struct storage *st = three_files(t->dir, true);
	char err[STORAGE_ERR_MAX], c[300];
	assert_int_equal(storage_write(st, 0, "ABCDEFGHIJKL", 12, err, sizeof err), 0);
	storage_free(st);
	st = three_files(t->dir, false);
	assert_int_equal(storage_check(st, 0, 12, &file), 0); /* nothing recorded: no check */
	struct stat sa, sc;
	snprintf(c, sizeof c, "%s/tree/c", t->dir);
	assert_int_equal(stat(c, &sc), 0);
	char a[300];
	snprintf(a, sizeof a, "%s/tree/a", t->dir);
	assert_int_equal(stat(a, &sa), 0);
	const uint64_t size[] = { 5, 0, 7 };
	const int64_t mt[] = { (int64_t)sa.st_mtim.tv_sec * 1000000000 + sa.st_mtim.tv_nsec, 0,
			       (int64_t)sc.st_mtim.tv_sec * 1000000000 + sc.st_mtim.tv_nsec };
	storage_record_idents(st, size, mt);
	assert_int_equal(storage_check(st, 0, 12, &file), 0);
	struct timespec later[2] = { { .tv_nsec = UTIME_OMIT }, { sc.st_mtim.tv_sec + 5, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, c, later, 0), 0);
	assert_int_equal(storage_check(st, 0, 5, &file), 0); /* only a, which did not change */
	assert_int_equal(storage_check(st, 4, 2, &file), -1);
	assert_int_equal(file, 2);
	uint64_t off, len;
	assert_string_equal(storage_file(st, 2, &off, &len), c);
	assert_true(off == 5 && len == 7);
	assert_null(storage_file(st, 3, &off, &len));
	char *root = storage_path_of(st, "tree"), *sub = storage_path_of(st, "tree/b");
	snprintf(c, sizeof c, "%s/tree/b", t->dir);
	assert_string_equal(sub, c);
	c[strlen(c) - 2] = '\0';
	assert_string_equal(root, c);
	free(root);
	free(sub);
	/* Replaced under its name with the same size and time: a new inode. */
	char moved[320];
	snprintf(moved, sizeof moved, "%s.new", a);
	put_file(t->dir, "tree/a.new", "ABCDE", 5);
	struct timespec same[2] = { { .tv_nsec = UTIME_OMIT }, sa.st_mtim };
	assert_int_equal(utimensat(AT_FDCWD, moved, same, 0), 0);
	assert_int_equal(rename(moved, a), 0);
	assert_int_equal(storage_check(st, 0, 1, &file), -1);
	assert_int_equal(file, 0);
	storage_free(st);
}

/* A fetched tree gets its empty directory, its x bit where r is, and its times. */
static void test_tree_meta(void **state)
{
	struct tmp *t = *state;
	uint8_t h[MANIFEST_HASH_LEN] = { 0 };
	struct manifest_builder *b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	assert_int_equal(manifest_builder_add_entry(b, "t/run", 3, MANIFEST_MODE_EXEC,
						    INT64_C(1000000000123456789)), 0);
	assert_int_equal(manifest_builder_add_entry(b, "t/sub/x", 2, 0, INT64_C(2000000000)), 0);
	assert_int_equal(manifest_builder_add_dir(b, "t", INT64_C(3000000000)), 0);
	assert_int_equal(manifest_builder_add_dir(b, "t/empty", INT64_C(4000000000)), 0);
	assert_int_equal(manifest_builder_add_hash(b, h), 0);
	struct manifest *m = manifest_builder_finish(b);
	manifest_builder_free(b);
	assert_non_null(m);
	char root[300], p[400], err[STORAGE_ERR_MAX];
	snprintf(root, sizeof root, "%s/t", t->dir);
	struct storage *st = storage_for_manifest(m, root, true);
	assert_int_equal(storage_write(st, 0, "abcde", 5, err, sizeof err), 0);
	struct tree_meta *tm = tree_meta_new(m, st);
	assert_non_null(tm);
	snprintf(p, sizeof p, "%s/run", root);
	int fd = open(p, O_RDONLY);
	assert_int_equal(fchmod(fd, 04640), 0); /* setuid must not survive */
	assert_int_equal(tree_meta_file(tm, 0, fd), 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	close(fd);
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_true(sb.st_mtim.tv_sec == 1000000000 && sb.st_mtim.tv_nsec == 123456789);
	assert_int_equal(tree_meta_dirs(tm, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/empty", root);
	assert_int_equal(stat(p, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode) && sb.st_mtim.tv_sec == 4);
	assert_int_equal(stat(root, &sb), 0);
	assert_true(sb.st_mtim.tv_sec == 3);
	tree_meta_free(tm);
	storage_free(st);
	manifest_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_across_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spans_and_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_file_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map, setup, teardown),
		cmocka_unit_test(test_content_name),
		cmocka_unit_test_setup_teardown(test_check_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_meta, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
