#ifndef OPENIDD_COPENSSL_SHIM_H
#define OPENIDD_COPENSSL_SHIM_H

// Only non-deprecated OpenSSL 3 APIs are used; this keeps the build free of warnings.
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// Macros Swift cannot import, as functions.
static inline long openidd_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long openidd_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long openidd_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

// Crypto: reads the bytes a memory BIO holds (BIO_get_mem_data is a macro over BIO_ctrl).
static inline long openidd_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}
// Crypto: key selections for OSSL_DECODER (nested macro expressions Swift cannot import).
static inline int openidd_EVP_PKEY_KEYPAIR(void) { return EVP_PKEY_KEYPAIR; }
static inline int openidd_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }
// TLS: SSL_OP_BIT is a cast-and-shift macro Swift cannot import. Servers that close without
// close_notify are common for HTTP; message framing catches truncation, so a bare EOF reads as EOF.
static inline uint64_t openidd_SSL_OP_IGNORE_UNEXPECTED_EOF(void) {
    return SSL_OP_IGNORE_UNEXPECTED_EOF;
}

#endif
