/* Where a download goes: its name from the manifest (or one made from the content id), its
 * final and hidden partial roots in the output directory, a check that the name is free and the
 * disk has room, and its storage. Failures here may be found inside the session core, so they
 * are reported with xfer_fail_later(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "node/xfer/xfer_place.h"
#include "transfer/layout.h"

int place_names(struct xfer *x)
{
	if (x->final_root != NULL)
		return 0;
	x->chunk_size = manifest_chunk_size(x->man);
	char *name = layout_content_name(x->man);
	if (name == NULL && (name = malloc(8 + 17)) != NULL)
		snprintf(name, 8 + 17, "content-%.16s", x->hex);
	size_t len = name ? strlen(x->path) + strlen(name) + 16 : 0;
	x->final_root = len ? malloc(len) : NULL;
	x->part_root = len ? malloc(len) : NULL;
	if (name == NULL || x->final_root == NULL || x->part_root == NULL) {
		free(name);
		return -1;
	}
	free(x->name);
	x->name = name;
	snprintf(x->final_root, len, "%s/%s", x->path, name);
	snprintf(x->part_root, len, "%s/.%s.part", x->path, name);
	return 0;
}

/* Refuse early what would fail later: a name taken in the output directory, a disk too full. */
static int check_room(struct xfer *x, bool *in_place)
{
	struct stat sb;
	struct statvfs vs;
	bool part = lstat(x->part_root, &sb) == 0, final;
	if (part && S_ISLNK(sb.st_mode)) {
		/* Never resumed through: it could point anywhere (node/disk/beneath.h). */
		xfer_fail_later(x, XFER_E_IO, "%s is a symbolic link, not a partial download of "
				"ours; remove it or fetch into another directory", x->part_root);
		return -1;
	}
	final = lstat(x->final_root, &sb) == 0;
	*in_place = !part && final && x->verified && bitfield_all(x->verified);
	if (final && !*in_place) {
		xfer_fail_later(x, XFER_E_IO, "%s already exists; move it away or fetch into "
				"another directory", x->final_root);
		return -1;
	}
	uint64_t need = manifest_total_size(x->man) - xfer_bytes_verified(x);
	if (statvfs(x->path, &vs) == 0 && (uint64_t)vs.f_bavail * vs.f_frsize < need) {
		xfer_fail_later(x, XFER_E_IO, "not enough space in %s: %llu bytes needed, %llu free",
				x->path, (unsigned long long)need,
				(unsigned long long)vs.f_bavail * vs.f_frsize);
		return -1;
	}
	return 0;
}

int place_prepare(struct xfer *x)
{
	if (place_names(x) != 0 || (x->verified == NULL &&
				    (x->verified = bitfield_new(manifest_chunk_count(x->man))) == NULL)) {
		xfer_fail_later(x, XFER_E_INTERNAL, "out of memory");
		return -1;
	}
	bool in_place;
	if (check_room(x, &in_place) != 0)
		return -1;
	x->in_place = in_place;
	storage_free(x->sto);
	x->sto = storage_for_manifest(x->man, in_place ? x->final_root : x->part_root, !in_place);
	if (x->sto == NULL) {
		xfer_fail_later(x, XFER_E_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

