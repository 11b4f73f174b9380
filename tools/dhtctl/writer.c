/* A user's own writer key: see writer.h. */
#include "tools/dhtctl/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dht/item.h"

int writer_keygen(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *path)
{
	struct identity id;
	char text[IDENTITY_TEXT_MAX], pk[2 * DHT_ITEM_PK_LEN + 1];
	crypto_sign_keypair(id.pk, id.sk);
	int n = identity_encode(&id, text, sizeof text);
	sodium_memzero(&id.sk, sizeof id.sk);
	int fd = n < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	bool ok = fd >= 0 && write(fd, text, (size_t)n) == n;
	sodium_memzero(text, sizeof text);
	if (fd >= 0 && (close(fd) != 0 || !ok))
		ok = false;
	if (!ok)
		return dhtctl_fail(c, EXIT_OTHER, "io", "cannot create %s: %s (it must not exist "
				   "yet)", path, strerror(errno ? errno : EIO));
	(void)cmd;
	printf("%s\n", sodium_bin2hex(pk, sizeof pk, id.pk, sizeof id.pk));
	return EXIT_OK;
}

int writer_load(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *path,
		struct identity *out)
{
	char text[IDENTITY_TEXT_MAX];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof text, f) : 0;
	int err = errno;
	if (f)
		fclose(f);
	int rc = f == NULL ? dhtctl_usage(c, cmd, "cannot read --key-file %s: %s", path,
					  strerror(err))
		 : identity_decode(text, n, out) != 0
			 ? dhtctl_usage(c, cmd, "--key-file %s is not a key file (make one with "
					"dhtctl writerkey FILE)", path)
			 : EXIT_OK;
	sodium_memzero(text, sizeof text);
	return rc;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The id REQ names, in the node's network: its width comes from the node's status. */
static int request_id(struct dhtctl *c, const json_t *req, struct dht_id *out)
{
	json_t *resp;
	int rc = dhtctl_call(c, json_pack("{s:s}", "cmd", "status"), &resp);
	if (rc)
		return rc;
	unsigned bits = (unsigned)jnum(resp, "bits");
	json_decref(resp);
	const char *key = json_string_value(json_object_get(req, "key"));
	const char *hex = json_string_value(json_object_get(req, "id"));
	if (!id_bits_valid(bits) || (key == NULL && hex == NULL))
		return dhtctl_fail(c, EXIT_OTHER, "bad_answer", "the node did not say its id width");
	if (key)
		id_from_key(out, key, strlen(key), bits);
	else if (id_from_hex(out, hex, bits) != 0)
		return dhtctl_fail(c, EXIT_USAGE, "usage", "--id %s does not fit the network's %u "
				   "bits", hex, bits);
	return EXIT_OK;
}

int writer_sign(struct dhtctl *c, const struct identity *id, json_t *req, struct dht_item *item)
{
	struct dht_id key;
	char pk[2 * DHT_ITEM_PK_LEN + 1], sig[2 * DHT_ITEM_SIG_LEN + 1];
	int rc = request_id(c, req, &key);
	if (rc)
		return rc;
	item->seq = wall_us();
	item_sign(item, &key, id->sk);
	sodium_bin2hex(pk, sizeof pk, item->pk, DHT_ITEM_PK_LEN);
	sodium_bin2hex(sig, sizeof sig, item->sig, DHT_ITEM_SIG_LEN);
	json_object_set_new(req, "writer", json_string(pk));
	json_object_set_new(req, "seq", json_integer((json_int_t)item->seq));
	json_object_set_new(req, "sig", json_string(sig));
	return EXIT_OK;
}
