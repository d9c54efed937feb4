/*
 * nats-xs XS host: the TLS engine behind "embedded:io/socket/tcp/tls" (tools/xs/modules/tls.js).
 *
 * OpenSSL (the system's libssl) runs the TLS 1.2 client over two memory BIOs and never touches a
 * socket: the JS module feeds it the ciphertext it reads from the socket beneath (whatever the
 * `TCP.io` it was given, an adopting one included) and writes out the ciphertext the engine
 * produces, with the ECMA-419 counts. Plaintext is decrypted straight into the caller's buffer,
 * so the XS heap holds no record buffers; OpenSSL's own state lives in C memory (on a board, the
 * SDK's TLS session keeps it on the XS heap instead: see the README's "Secure links").
 *
 *   new TLSEngine({ ca, cert, key, serverName, identity })   PEM text or bytes; identity: the host
 *                                                            name or IPv4 literal to verify
 *   feed(bytes)          ciphertext in
 *   handshake()          true once done; throws the reason (certificate check, alert) on failure
 *   available()          plaintext bytes of the next record, 0 when none yet
 *   read(view)           plaintext into the view, returns the count
 *   write(bytes)         plaintext out (becomes ciphertext)
 *   pending()            ciphertext bytes waiting to be sent
 *   drain(view)          ciphertext into the view, returns the count
 *   closed()             true once the peer sent close_notify
 *   close()              frees the engine
 */

#include "host.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

typedef struct {
	SSL_CTX* ctx;
	SSL* ssl;
	BIO* in;    /* ciphertext from the server, owned by ssl */
	BIO* out;   /* ciphertext to the server, owned by ssl */
	int done;
	int closed;
} Engine;

static void engineFree(Engine* e)
{
	if (!e)
		return;
	if (e->ssl)
		SSL_free(e->ssl);
	if (e->ctx)
		SSL_CTX_free(e->ctx);
	free(e);
}

static void engineDestructor(void* data)
{
	engineFree((Engine*)data);
}

static Engine* getEngine(xsMachine* the)
{
	Engine* e = hostGetData(the, &xsThis, engineDestructor, "TLSEngine");
	if (!e)
		xsUnknownError("TLSEngine: closed");
	return e;
}

/* The text of the PEM option `name` (a string or bytes) into a malloc'ed buffer, or NULL. */
static char* pemOption(xsMachine* the, const char* name, int* length)
{
	xsSlot value = xsGet(xsArg(0), xsID((char*)name));
	uint8_t* data;
	char* copy;
	int size;
	if (xsTypeOf(value) == xsUndefinedType || xsTypeOf(value) == xsNullType)
		return NULL;
	if (xsTypeOf(value) == xsStringType) {
		const char* text = xsToString(value);
		size = (int)strlen(text);
		copy = malloc(size + 1);
		if (copy)
			memcpy(copy, xsToString(value), size);
	}
	else {
		if (!hostGetBuffer(the, &value, &data, &size, 0))
			xsTypeError("TLSEngine: %s must be PEM text or bytes", name);
		copy = malloc(size + 1);
		if (copy)
			memcpy(copy, data, size);
	}
	if (!copy)
		xsUnknownError("TLSEngine: no memory");
	copy[size] = 0;
	*length = size;
	return copy;
}

/* The first reason OpenSSL queued, as text (the error queue is then cleared). */
static void reason(char* text, size_t size)
{
	unsigned long code = ERR_get_error();
	if (code)
		ERR_error_string_n(code, text, size);
	else
		snprintf(text, size, "the server ended the handshake");
	ERR_clear_error();
}

static void xs_tls_constructor(xsMachine* the)
{
	Engine* e;
	char text[256];
	char* pem;
	int length;
	xsSlot value;
	BIO* bio;

	if ((xsToInteger(xsArgc) < 1) || (xsTypeOf(xsArg(0)) != xsReferenceType))
		xsTypeError("TLSEngine: options required");
	e = calloc(1, sizeof(Engine));
	if (!e)
		xsUnknownError("TLSEngine: no memory");
	xsSetHostData(xsThis, e);
	e->ctx = SSL_CTX_new(TLS_client_method());
	if (!e->ctx)
		xsUnknownError("TLSEngine: no context");
	/* the device's TLS socket speaks TLS 1.2 only: so does this one */
	SSL_CTX_set_min_proto_version(e->ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(e->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(e->ctx, SSL_VERIFY_PEER, NULL);

	pem = pemOption(the, "ca", &length);
	if (pem) {
		X509_STORE* store = SSL_CTX_get_cert_store(e->ctx);
		STACK_OF(X509_INFO)* infos;
		int i, count = 0;
		bio = BIO_new_mem_buf(pem, length);
		infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
		if (infos) {
			for (i = 0; i < sk_X509_INFO_num(infos); i++) {
				X509_INFO* info = sk_X509_INFO_value(infos, i);
				if (info->x509 && X509_STORE_add_cert(store, info->x509))
					count++;
			}
			sk_X509_INFO_pop_free(infos, X509_INFO_free);
		}
		BIO_free(bio);
		free(pem);
		ERR_clear_error();
		if (!count)
			xsUnknownError("TLSEngine: ca holds no PEM certificate");
	}
	else
		SSL_CTX_set_default_verify_paths(e->ctx);

	pem = pemOption(the, "cert", &length);
	if (pem) {
		X509* cert;
		EVP_PKEY* key;
		bio = BIO_new_mem_buf(pem, length);
		cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		free(pem);
		pem = pemOption(the, "key", &length);
		if (!cert || !pem) {
			X509_free(cert);
			free(pem);
			xsUnknownError("TLSEngine: the client certificate needs PEM cert and key");
		}
		bio = BIO_new_mem_buf(pem, length);
		key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		free(pem);
		if (!key || (SSL_CTX_use_certificate(e->ctx, cert) != 1) || (SSL_CTX_use_PrivateKey(e->ctx, key) != 1) || (SSL_CTX_check_private_key(e->ctx) != 1)) {
			X509_free(cert);
			EVP_PKEY_free(key);
			reason(text, sizeof(text));
			xsUnknownError("TLSEngine: client certificate or key refused: %s", text);
		}
		X509_free(cert);
		EVP_PKEY_free(key);
	}

	e->ssl = SSL_new(e->ctx);
	e->in = BIO_new(BIO_s_mem());
	e->out = BIO_new(BIO_s_mem());
	if (!e->ssl || !e->in || !e->out) {
		BIO_free(e->in);
		BIO_free(e->out);
		xsUnknownError("TLSEngine: no memory");
	}
	BIO_set_mem_eof_return(e->in, -1);
	SSL_set_bio(e->ssl, e->in, e->out);
	SSL_set_connect_state(e->ssl);

	value = xsGet(xsArg(0), xsID("serverName"));
	if (xsTypeOf(value) == xsStringType) {
		xsToStringBuffer(value, text, sizeof(text));
		SSL_set_tlsext_host_name(e->ssl, text);
	}
	value = xsGet(xsArg(0), xsID("identity"));
	if (xsTypeOf(value) == xsStringType) {
		X509_VERIFY_PARAM* param = SSL_get0_param(e->ssl);
		xsToStringBuffer(value, text, sizeof(text));
		/* an IPv4 literal must be in the certificate's IP addresses, a name in its DNS names */
		if (!X509_VERIFY_PARAM_set1_ip_asc(param, text)) {
			ERR_clear_error();
			X509_VERIFY_PARAM_set1_host(param, text, 0);
		}
	}
}

static void xs_tls_feed(xsMachine* the)
{
	Engine* e = getEngine(the);
	uint8_t* data;
	int length;
	if (!hostGetBuffer(the, &xsArg(0), &data, &length, 0))
		xsTypeError("TLSEngine: feed bytes");
	if (length > 0 && BIO_write(e->in, data, length) != length)
		xsUnknownError("TLSEngine: no memory");
}

/* Throws the reason of a failed handshake, with the certificate check's own words when it failed. */
static void xs_tls_handshake(xsMachine* the)
{
	Engine* e = getEngine(the);
	int result, error;
	char text[256];
	if (e->done) {
		xsResult = xsTrue;
		return;
	}
	ERR_clear_error();
	result = SSL_do_handshake(e->ssl);
	if (result == 1) {
		e->done = 1;
		xsResult = xsTrue;
		return;
	}
	error = SSL_get_error(e->ssl, result);
	if ((error == SSL_ERROR_WANT_READ) || (error == SSL_ERROR_WANT_WRITE)) {
		xsResult = xsFalse;
		return;
	}
	if (SSL_get_verify_result(e->ssl) != X509_V_OK) {
		long verify = SSL_get_verify_result(e->ssl);
		ERR_clear_error();
		xsUnknownError("%s", X509_verify_cert_error_string(verify));
	}
	reason(text, sizeof(text));
	xsUnknownError("%s", text);
}

static void xs_tls_available(xsMachine* the)
{
	Engine* e = getEngine(the);
	int n = 0;
	if (e->done && !e->closed) {
		uint8_t byte;
		ERR_clear_error();
		/* a peek makes OpenSSL open the next record, whose size SSL_pending then gives */
		if (SSL_peek(e->ssl, &byte, 1) > 0)
			n = SSL_pending(e->ssl);
		else {
			int error = SSL_get_error(e->ssl, 0);
			if (error == SSL_ERROR_ZERO_RETURN)
				e->closed = 1;
			ERR_clear_error();
		}
	}
	xsResult = xsInteger(n);
}

static void xs_tls_read(xsMachine* the)
{
	Engine* e = getEngine(the);
	uint8_t* data;
	int length, n;
	if (!hostGetBuffer(the, &xsArg(0), &data, &length, 1))
		xsTypeError("TLSEngine: read into bytes");
	n = length > 0 ? SSL_read(e->ssl, data, length) : 0;
	if (n < 0) {
		ERR_clear_error();
		n = 0;
	}
	xsResult = xsInteger(n);
}

static void xs_tls_write(xsMachine* the)
{
	Engine* e = getEngine(the);
	uint8_t* data;
	int length, n;
	char text[256];
	if (!hostGetBuffer(the, &xsArg(0), &data, &length, 0))
		xsTypeError("TLSEngine: write bytes");
	if (length == 0)
		return;
	/* copied out first: an allocation below may move the buffer */
	ERR_clear_error();
	n = SSL_write(e->ssl, data, length);
	if (n != length) {
		reason(text, sizeof(text));
		xsUnknownError("TLSEngine: write failed: %s", text);
	}
}

static void xs_tls_pending(xsMachine* the)
{
	Engine* e = getEngine(the);
	xsResult = xsInteger((int)BIO_ctrl_pending(e->out));
}

static void xs_tls_drain(xsMachine* the)
{
	Engine* e = getEngine(the);
	uint8_t* data;
	int length, n;
	if (!hostGetBuffer(the, &xsArg(0), &data, &length, 1))
		xsTypeError("TLSEngine: drain into bytes");
	n = length > 0 ? BIO_read(e->out, data, length) : 0;
	xsResult = xsInteger(n > 0 ? n : 0);
}

static void xs_tls_closed(xsMachine* the)
{
	Engine* e = getEngine(the);
	xsResult = xsBoolean(e->closed);
}

static void xs_tls_close(xsMachine* the)
{
	Engine* e = hostGetData(the, &xsThis, engineDestructor, "TLSEngine");
	if (e) {
		engineFree(e);
		xsSetHostData(xsThis, NULL);
	}
}

void tlsBuild(xsMachine* the, xsSlot* host, xsSlot* prototype)
{
	*prototype = xsNewHostObject(engineDestructor);
	hostDefineFunction(the, prototype, "feed", xs_tls_feed, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "handshake", xs_tls_handshake, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "available", xs_tls_available, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "read", xs_tls_read, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "write", xs_tls_write, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "pending", xs_tls_pending, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "drain", xs_tls_drain, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "closed", xs_tls_closed, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "close", xs_tls_close, 0, xsDontEnum);
	hostDefineClass(the, host, "TLSEngine", xs_tls_constructor, 1, prototype);
}
