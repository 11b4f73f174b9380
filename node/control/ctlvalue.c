/* The put and get commands' values: see ctlvalue.h. */
#include "node/control/ctlvalue.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "dht/item.h"

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int ctlvalue_item(struct ctl_writer *w, const struct ctl_request *r, struct dht_item *out)
{
	memset(out, 0, sizeof *out);
	out->value = r->value;
	out->vlen = (uint16_t)r->value_len;
	if (r->immutable) {
		out->flags = DHT_ITEM_IMMUTABLE;
		return 0;
	}
	out->flags = r->del ? DHT_ITEM_TOMBSTONE : 0;
	if (r->has_writer) {
		memcpy(out->pk, r->writer, DHT_ITEM_PK_LEN);
		memcpy(out->sig, r->sig, DHT_ITEM_SIG_LEN);
		out->seq = r->seq;
		return 0;
	}
	if (w == NULL || w->sk == NULL)
		return -1;
	uint64_t now = wall_us();
	out->seq = now > w->last_seq ? now : w->last_seq + 1;
	w->last_seq = out->seq;
	item_sign(out, &r->key, w->sk);
	return 0;
}

static json_t *writer_json(const struct dht_item *it)
{
	char hex[2 * DHT_ITEM_PK_LEN + 1];
	if (it->flags & DHT_ITEM_IMMUTABLE)
		return json_null();
	sodium_bin2hex(hex, sizeof hex, it->pk, DHT_ITEM_PK_LEN);
	return json_string(hex);
}

int ctlvalue_set_stored(json_t *obj, const struct dht_item *it)
{
	return json_object_set_new(obj, "writer", writer_json(it)) |
	       json_object_set_new(obj, "seq", json_integer((json_int_t)it->seq));
}

static json_t *value_json(const struct dht_value *v)
{
	json_t *o = json_object();
	if (o == NULL || ctl_set_value(o, v->item.value, v->item.vlen) != 0 ||
	    ctlvalue_set_stored(o, &v->item) != 0 ||
	    json_object_set_new(o, "ttl", json_integer(v->ttl_s)) != 0 ||
	    json_object_set_new(o, "immutable",
				json_boolean(v->item.flags & DHT_ITEM_IMMUTABLE)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int ctlvalue_set_json(json_t *obj, const struct dht_value_result *res)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < res->nvalues; i++)
		if (json_array_append_new(arr, value_json(&res->values[i])) != 0) {
			json_decref(arr);
			return -1;
		}
	if (json_object_set_new(obj, "values", arr) != 0)
		return -1;
	if (res->nvalues == 0)
		return 0;
	const struct dht_value *first = &res->values[0];
	return ctl_set_value(obj, first->item.value, first->item.vlen) |
	       json_object_set_new(obj, "ttl", json_integer(first->ttl_s)) |
	       ctlvalue_set_stored(obj, &first->item);
}
