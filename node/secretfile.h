/* node/secretfile.h: files that hold one 32-byte secret as 64 hex digits and a newline: the
 * control secret (--control-secret) and the network key (--network-key, dhtctl keygen). It makes
 * them (mode 0600, never over an existing file) and reads them, checking for the node that the
 * file is its own and that no one else may read it. The key is written into the caller's buffer;
 * nothing is allocated. */
#ifndef NODE_SECRETFILE_H
#define NODE_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECRETFILE_LEN 32

enum secretfile_result { SECRETFILE_OK, SECRETFILE_MISSING, SECRETFILE_FAILED };

/* Make PATH (which must not exist) holding a new random secret, copied into KEY. WHAT names the
 * file in messages ("the network key"). Return 0, or -1 with ERR saying what went wrong. */
int secretfile_create(const char *path, const char *what, uint8_t key[SECRETFILE_LEN],
		      char *err, size_t errcap);

/* Read PATH into KEY. With OWNER_ONLY (the node reading its own secret) the file must be a
 * regular file, not a link, of this effective user that no one else may read or change; in
 * systemd's $CREDENTIALS_DIRECTORY (LoadCredential=), closed to others, root may own it and the
 * group's read bit may stand for the ACL that lets the node's user read it.
 * SECRETFILE_MISSING (no such file) sets no message; SECRETFILE_FAILED sets ERR, ending with
 * HINT when the content is malformed (what the file should hold, how to get a good one). */
enum secretfile_result secretfile_read(const char *path, const char *what, bool owner_only,
				       const char *hint, uint8_t key[SECRETFILE_LEN], char *err,
				       size_t errcap);

#endif
