// SPDX-License-Identifier: GPL-2.0-or-later
/* `vnc NAME` on a libvirt host (lvvm-vnc.h). */
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/lvvm-vnc.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/xalloc.h"

void lvvm_vnc_clear(struct lvvm_vnc *v)
{
	free(v->listen);
	free(v->password);
	free(v->socket);
	*v = (struct lvvm_vnc){ 0 };
}

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

/* An attribute as a new string, or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = sym_xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? xstrdup((const char *)v) : NULL;

	sym_xmlFree(v);
	return s;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* <graphics type='vnc'> and its first <listen> into *out. */
static void parse_graphics(const xmlNode *g, struct lvvm_vnc *out)
{
	const xmlNode *l = child(g, "listen");
	cleanup_free char *port = attr(g, "port");
	char *end;
	long p = port ? strtol(port, &end, 10) : -1;

	out->port = port && *end == '\0' && p > 0 && p < 65536 ? (int)p : -1;
	out->password = attr(g, "passwd");
	out->socket = attr(g, "socket");
	out->listen = attr(g, "listen");
	if (l != NULL) {
		cleanup_free char *type = attr(l, "type");

		if (type && strcmp(type, "socket") == 0 && !out->socket)
			out->socket = attr(l, "socket");
		else if (type && strcmp(type, "address") == 0 && !out->listen)
			out->listen = attr(l, "address");
	}
	if (out->socket != NULL)
		out->port = -1;
}

int lvvm_vnc_parse(const char *xml, struct lvvm_vnc *out)
{
	xmlDoc *doc = sym_xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
					XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	const xmlNode *root = doc ? sym_xmlDocGetRootElement(doc) : NULL;
	int ret = 1;

	*out = (struct lvvm_vnc){ .port = -1 };
	if (root == NULL || !is(root, "domain")) {
		ret = -1;
		goto out;
	}
	for (const xmlNode *g = child(child(root, "devices"), "graphics");
	     g != NULL; g = g->next) {
		cleanup_free char *type = NULL;

		if (!is(g, "graphics"))
			continue;
		type = attr(g, "type");
		if (type != NULL && strcmp(type, "vnc") == 0) {
			parse_graphics(g, out);
			ret = 0;
			break;
		}
	}
out:
	sym_xmlFreeDoc(doc);
	return ret;
}

/* HOST:PORT: a wildcard listen is this host's address for a local URI
 * and the URI's host for a remote one. */
static char *endpoint(const char *uri, const char *listen, unsigned port)
{
	cleanup_free char *host = NULL;
	unsigned ignored;
	bool any = listen == NULL || strcmp(listen, "0.0.0.0") == 0 ||
		   strcmp(listen, "::") == 0;

	if (!any || !lvconn_uri_endpoint(uri, &host, &ignored))
		return view_endpoint(listen ? listen : "0.0.0.0", port);
	if (strchr(host, ':') != NULL)
		return xasprintf("[%s]:%u", host, port);
	return xasprintf("%s:%u", host, port);
}

int lvvm_cmd_vnc(const struct vmctl_env *env, const char *name,
		 struct vmctl_error **err)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	cleanup_free char *uri = NULL, *xml = NULL, *ep = NULL;
	cleanup_free char *where = NULL;
	struct lvvm_vnc v = { .port = -1 };
	enum vm_run_state state;
	virDomainInfo di;
	unsigned ignored;
	int ret = -1;

	/* the password is in the XML only for a read-write connection */
	if (lvvm_open_vm(env, name, 0, &conn, &uri, &dom, err) < 0)
		goto out;
	if (sym_virDomainGetInfo(dom, &di) < 0 ||
	    (xml = sym_virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE)) == NULL) {
		lvconn_error(err, uri, false, name);
		goto out;
	}
	state = lvvm_state_of(di.state);
	if (lvvm_vnc_parse(xml, &v) != 0 ||
	    (v.socket == NULL && v.port < 0 && state == VM_RUNNING)) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"VM %s has no VNC server", name);
		goto out;
	}
	if (v.socket != NULL) {
		lvconn_uri_endpoint(uri, &where, &ignored);
		view_vnc_result(env, &(struct view_vnc){
			.name = name, .socket = v.socket, .state = state,
			.host = uri, .where = where });
	} else if (v.port < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s is %s: "
				"libvirt picks its VNC port when it starts",
				name, vm_run_state_name(state));
		goto out;
	} else {
		ep = endpoint(uri, v.listen, (unsigned)v.port);
		view_vnc_result(env, &(struct view_vnc){
			.name = name, .endpoint = ep, .port = (unsigned)v.port,
			.password = v.password, .state = state, .host = uri });
	}
	ret = VMCTL_EXIT_OK;
out:
	lvvm_vnc_clear(&v);
	if (dom != NULL)
		sym_virDomainFree(dom);
	lvconn_close(conn);
	return ret;
}
