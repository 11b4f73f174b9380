/* Durable writes on a worker: the state file, and the end of a download. run() works on the
 * job's own copies; done() on the loop hands the result to the owner and frees the job. */
#include "node/xfer/statejob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/xfer/xferstate.h"

/* ---- saving the state ---- */

struct savejob {
	struct hp_job j;
	char *dir, *text;
	uint8_t *man;
	size_t manlen;
	int rc;
	char err[SPANIO_ERR_MAX];
	savejob_done_fn *done;
	void *arg;
};

static void save_run(struct hp_job *j)
{
	struct savejob *s = (struct savejob *)j;
	if (s->man)
		s->rc = xstate_write(s->dir, XSTATE_MANIFEST, s->man, s->manlen, s->err,
				     sizeof s->err);
	if (s->rc == 0)
		s->rc = xstate_write(s->dir, XSTATE_FILE, s->text, strlen(s->text), s->err,
				     sizeof s->err);
}

static void save_free(struct savejob *s)
{
	free(s->dir);
	free(s->text);
	free(s->man);
	free(s);
}

static void save_done(struct hp_job *j)
{
	struct savejob *s = (struct savejob *)j;
	struct savejob_result res = { .ran = j->ran, .with_manifest = s->man != NULL,
				      .rc = j->ran ? s->rc : -1, .err = s->err };
	s->done(s->arg, &res);
	save_free(s);
}

int savejob_submit(struct hashpool *pool, const char *dir, const char *text, const uint8_t *man,
		   size_t manlen, savejob_done_fn *done, void *arg)
{
	struct savejob *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	s->done = done;
	s->arg = arg;
	s->dir = strdup(dir);
	s->text = strdup(text);
	s->manlen = manlen;
	if (man && (s->man = malloc(manlen)) != NULL)
		memcpy(s->man, man, manlen);
	if (s->dir == NULL || s->text == NULL || (man && !s->man)) {
		save_free(s);
		return -1;
	}
	s->j.run = save_run;
	s->j.done = save_done;
	hashpool_submit(pool, &s->j);
	return 0;
}

/* ---- finishing a download ---- */

struct finishjob {
	struct hp_job j;
	struct span_list files;
	char *parent, *part, *final, *statedir, *state;
	bool in_place;
	struct tree_meta *meta;
	uint64_t *size;
	int64_t *mtime_ns;
	int rc;
	char err[SPANIO_ERR_MAX];
	finishjob_done_fn *done;
	void *arg;
};

/* Sync one file (creating it if empty files were never written) and note its size and time. */
static int finish_file(struct finishjob *f, uint32_t i)
{
	const char *path = f->files.v[i].path;
	struct stat sb;
	int fd = span_open(&f->files, i, O_WRONLY | O_CREAT, f->err, sizeof f->err);
	if (fd < 0)
		return -1;
	if (fdatasync(fd) != 0 || tree_meta_file(f->meta, i, fd) != 0 || fstat(fd, &sb) != 0) {
		snprintf(f->err, sizeof f->err, "cannot finish %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	f->size[i] = (uint64_t)sb.st_size;
	f->mtime_ns[i] = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	return 0;
}

static void finish_run(struct hp_job *j)
{
	struct finishjob *f = (struct finishjob *)j;
	for (uint32_t i = 0; i < f->files.n; i++)
		if ((f->rc = finish_file(f, i)) != 0)
			return;
	if ((f->rc = tree_meta_dirs(f->meta, f->err, sizeof f->err)) != 0)
		return;
	/* Every chunk is recorded before the rename: a node killed right after it finds the
	 * whole file verified under its final name, and uses it in place. */
	if ((f->rc = xstate_write(f->statedir, XSTATE_FILE, f->state, strlen(f->state), f->err,
				  sizeof f->err)) != 0 || f->in_place)
		return;
	/* Only now, with every chunk verified and synced, does the name appear. */
	f->rc = rename_into_place(f->parent, f->part, f->final, f->err, sizeof f->err);
}

int rename_into_place(const char *parent, const char *part, const char *final, char *err,
		      size_t errcap)
{
	if (access(final, F_OK) == 0) {
		snprintf(err, errcap, "%s appeared in the meantime; the data stays in %s", final,
			 part);
		return -1;
	}
	if (rename(part, final) != 0) {
		snprintf(err, errcap, "cannot rename %s to %s: %s", part, final, strerror(errno));
		return -1;
	}
	int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void finish_free(struct finishjob *f)
{
	span_list_free(&f->files);
	free(f->parent);
	free(f->part);
	free(f->final);
	free(f->statedir);
	free(f->state);
	free(f->size);
	free(f->mtime_ns);
	tree_meta_free(f->meta);
	free(f);
}

static void finish_done(struct hp_job *j)
{
	struct finishjob *f = (struct finishjob *)j;
	struct finishjob_result res = { .ran = j->ran, .rc = f->rc, .err = f->err,
					.n = f->files.n, .size = f->size,
					.mtime_ns = f->mtime_ns };
	f->done(f->arg, &res);
	f->size = res.size;
	f->mtime_ns = res.mtime_ns;
	finish_free(f);
}

int finishjob_submit(struct hashpool *pool, struct finishjob_req *req, finishjob_done_fn *done,
		     void *arg)
{
	struct finishjob *f = calloc(1, sizeof *f);
	if (f == NULL) {
		span_list_free(&req->files);
		tree_meta_free(req->meta);
		return -1;
	}
	*f = (struct finishjob){ .files = req->files, .meta = req->meta, .in_place = req->in_place,
				 .done = done, .arg = arg };
	memset(&req->files, 0, sizeof req->files);
	req->meta = NULL;
	f->parent = strdup(req->parent);
	f->part = strdup(req->part);
	f->final = strdup(req->final);
	f->statedir = strdup(req->statedir);
	f->state = strdup(req->state);
	f->size = calloc(f->files.n ? f->files.n : 1, sizeof *f->size);
	f->mtime_ns = calloc(f->files.n ? f->files.n : 1, sizeof *f->mtime_ns);
	if (f->parent == NULL || f->part == NULL || f->final == NULL || f->statedir == NULL ||
	    f->state == NULL || f->size == NULL || f->mtime_ns == NULL) {
		finish_free(f);
		return -1;
	}
	f->j.run = finish_run;
	f->j.done = finish_done;
	hashpool_submit(pool, &f->j);
	return 0;
}
