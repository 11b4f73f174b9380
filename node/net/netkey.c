/* Network keys on libsodium's crypto_kdf (BLAKE2b keyed with the master key and a per-use
 * number) and node/secretfile (the file's format and checks). */
#include "node/net/netkey.h"

#include <sodium.h>
#include <string.h>

#include "node/errtext.h"
#include "node/secretfile.h"

_Static_assert(NETKEY_LEN == crypto_kdf_KEYBYTES, "the network key is a crypto_kdf master key");
_Static_assert(NETKEY_LEN == SECRETFILE_LEN, "the network key is a secret file");

/* crypto_kdf's context: 8 bytes that keep these subkeys apart from any other program's. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 'd', 'h', 't', 'n', 'e', 't', 'k', '1' };

static const char what[] = "the network key";

int netkey_generate(const char *path, char *err, size_t errcap)
{
	struct netkey k;
	int rc = secretfile_create(path, what, k.key, err, errcap);
	netkey_wipe(&k);
	return rc;
}

int netkey_load(const char *path, struct netkey *out, char *err, size_t errcap)
{
	static const char hint[] = "make one with dhtctl keygen FILE and copy that file to every "
				   "member of the ring";
	switch (secretfile_read(path, what, true, hint, out->key, err, errcap)) {
	case SECRETFILE_OK:
		return 0;
	case SECRETFILE_MISSING:
		errtext(err, errcap, "the network key %s does not exist; %s", path, hint);
		return -1;
	case SECRETFILE_FAILED:
		break;
	}
	return -1;
}

void netkey_derive(const struct netkey *k, enum netkey_use use, uint8_t *out, size_t len)
{
	crypto_kdf_derive_from_key(out, len, (uint64_t)use, kdf_context, k->key);
}

void netkey_tag(const struct netkey *k, uint8_t tag[NETKEY_TAG_LEN])
{
	uint8_t sub[crypto_kdf_BYTES_MIN];
	netkey_derive(k, NETKEY_TAG, sub, sizeof sub);
	memcpy(tag, sub, NETKEY_TAG_LEN);
}

void netkey_wipe(struct netkey *k)
{
	sodium_memzero(k->key, sizeof k->key);
}
