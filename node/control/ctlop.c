/* Control operations: the list the runner keeps, and the one way each of them answers and
 * ends. An operation answers exactly once, even when the core and a timer both try, and is
 * freed only when nothing can call back for it any more. No command logic here: the command
 * files (ctlcmd.c, ctlring.c, ctlfiles.c) call down into this file and never the reverse. */
#include "node/control/ctlop.h"

#include <stdlib.h>

#include "node/clock.h"

const char op_oom_line[] =
	"{\"ok\":false,\"code\":\"internal\",\"error\":\"the node ran out of memory\"}";

struct ctl_op *op_new(struct ctlcmd *c, const struct ctl_request *req, ctl_reply_cb *reply,
		      void *arg)
{
	struct ctl_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return NULL;
	op->c = c;
	op->req = *req;
	op->reply = reply;
	op->arg = arg;
	op->started_us = mono_now_us();
	op->next = c->ops;
	if (c->ops)
		c->ops->prev = op;
	c->ops = op;
	return op;
}

void op_free(struct ctl_op *op)
{
	if (op->prev)
		op->prev->next = op->next;
	else
		op->c->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	free(op);
}

void op_reply_line(struct ctl_op *op, char *line)
{
	if (!op->replied && op->reply != NULL)
		op->reply(op->arg, line != NULL ? line : op_oom_line, false);
	op->replied = true;
	free(line);
}

void op_reply_more(struct ctl_op *op, char *line)
{
	if (line != NULL && !op->replied && op->reply != NULL)
		op->reply(op->arg, line, true);
	free(line);
}

void op_reply_json(struct ctl_op *op, json_t *obj)
{
	op_reply_line(op, ctl_line(obj));
}

void op_reply_status(struct ctl_op *op, enum dht_status s)
{
	op_reply_line(op, ctl_error_line(ctl_code_of(s), ctl_status_advice(s)));
}

void op_finish(struct ctl_op *op)
{
	op->finished = true;
	if (!op->starting)
		op_free(op);
}

double op_ms(const struct ctl_op *op)
{
	return (double)(mono_now_us() - op->started_us) / 1000.0;
}
