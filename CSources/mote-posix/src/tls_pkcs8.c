/* Encrypted PKCS#8 keys as OpenSSL 3 writes them by default (PBES2: PBKDF2 with
 * HMAC-SHA256, AES-256-CBC). mbedTLS 2.x knows PBES2 only with DES ciphers and reports
 * "feature unavailable", so this decrypts the AES variants itself and hands the plain PKCS#8
 * DER to mbedTLS. mbedTLS 3.x reads them natively; there this file compiles to a stub. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/asn1.h"
#include "mbedtls/cipher.h"
#include "mbedtls/md.h"
#include "mbedtls/pem.h"
#include "mbedtls/pkcs5.h"
#include "mbedtls/platform_util.h"

#include "tls_internal.h"

#if MBEDTLS_VERSION_NUMBER < 0x03000000 && defined(MBEDTLS_PKCS5_C) && defined(MBEDTLS_AES_C) && \
    defined(MBEDTLS_CIPHER_MODE_CBC)

static const uint8_t oid_pbes2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d };
static const uint8_t oid_pbkdf2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c };
static const uint8_t oid_hmac_prefix[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02 };
static const uint8_t oid_aes_prefix[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01 };

static bool oid_is(const mbedtls_asn1_buf *oid, const uint8_t *want, size_t len)
{
    return oid->len == len && memcmp(oid->p, want, len) == 0;
}

/* hmacWithSHA1 (.7), -SHA224 (.8), -SHA256 (.9), -SHA384 (.10), -SHA512 (.11). */
static mbedtls_md_type_t prf_md(const mbedtls_asn1_buf *oid)
{
    if (oid->len != sizeof oid_hmac_prefix + 1 ||
        memcmp(oid->p, oid_hmac_prefix, sizeof oid_hmac_prefix) != 0) {
        return MBEDTLS_MD_NONE;
    }
    switch (oid->p[sizeof oid_hmac_prefix]) {
    case 7: return MBEDTLS_MD_SHA1;
    case 8: return MBEDTLS_MD_SHA224;
    case 9: return MBEDTLS_MD_SHA256;
    case 10: return MBEDTLS_MD_SHA384;
    case 11: return MBEDTLS_MD_SHA512;
    default: return MBEDTLS_MD_NONE;
    }
}

/* aes128-CBC (.2), aes192-CBC (.22), aes256-CBC (.42). */
static mbedtls_cipher_type_t aes_cbc(const mbedtls_asn1_buf *oid, size_t *keylen)
{
    if (oid->len != sizeof oid_aes_prefix + 1 ||
        memcmp(oid->p, oid_aes_prefix, sizeof oid_aes_prefix) != 0) {
        return MBEDTLS_CIPHER_NONE;
    }
    switch (oid->p[sizeof oid_aes_prefix]) {
    case 2: *keylen = 16; return MBEDTLS_CIPHER_AES_128_CBC;
    case 22: *keylen = 24; return MBEDTLS_CIPHER_AES_192_CBC;
    case 42: *keylen = 32; return MBEDTLS_CIPHER_AES_256_CBC;
    default: return MBEDTLS_CIPHER_NONE;
    }
}

/* Decrypt an EncryptedPrivateKeyInfo (DER) into out (at least len bytes). */
static int decrypt_der(const uint8_t *der, size_t len, const char *pw, uint8_t *out,
                       size_t *outlen)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + len;
    size_t n;
    mbedtls_asn1_buf alg, params, kdf, kdf_params, enc, iv, salt, prf;
    int iterations = 0, ret;
    mbedtls_md_type_t md = MBEDTLS_MD_SHA1; /* the PRF's default */
    size_t keylen = 0;
    uint8_t key[32];

    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
        mbedtls_asn1_get_alg(&p, end, &alg, &params) || !oid_is(&alg, oid_pbes2, sizeof oid_pbes2)) {
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    }
    /* PBES2-params: SEQUENCE { keyDerivationFunc, encryptionScheme } */
    unsigned char *q = params.p;
    const unsigned char *qend = params.p + params.len;
    if (mbedtls_asn1_get_alg(&q, qend, &kdf, &kdf_params) || !oid_is(&kdf, oid_pbkdf2, sizeof oid_pbkdf2) ||
        mbedtls_asn1_get_alg(&q, qend, &enc, &iv) || iv.tag != MBEDTLS_ASN1_OCTET_STRING ||
        iv.len != 16) {
        return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
    }
    mbedtls_cipher_type_t ct = aes_cbc(&enc, &keylen);
    if (ct == MBEDTLS_CIPHER_NONE) {
        return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
    }
    /* PBKDF2-params: salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 */
    unsigned char *k = kdf_params.p;
    const unsigned char *kend = kdf_params.p + kdf_params.len;
    if (kdf_params.tag != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
        mbedtls_asn1_get_tag(&k, kend, &salt.len, MBEDTLS_ASN1_OCTET_STRING)) {
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    }
    salt.p = k;
    k += salt.len;
    if (mbedtls_asn1_get_int(&k, kend, &iterations) || iterations <= 0) {
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    }
    if (k < kend && *k == MBEDTLS_ASN1_INTEGER) {
        int kl;
        if (mbedtls_asn1_get_int(&k, kend, &kl) || (size_t)kl != keylen) {
            return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
        }
    }
    if (k < kend) {
        mbedtls_asn1_buf prf_params;
        if (mbedtls_asn1_get_alg(&k, kend, &prf, &prf_params) ||
            (md = prf_md(&prf)) == MBEDTLS_MD_NONE) {
            return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
        }
    }
    /* encryptedData OCTET STRING */
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) || n == 0 || n % 16 != 0) {
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    }

    mbedtls_md_context_t mdc;
    mbedtls_md_init(&mdc);
    ret = mbedtls_md_setup(&mdc, mbedtls_md_info_from_type(md), 1);
    if (ret == 0) {
        ret = mbedtls_pkcs5_pbkdf2_hmac(&mdc, (const unsigned char *)pw, strlen(pw), salt.p,
                                        salt.len, (unsigned)iterations, (uint32_t)keylen, key);
    }
    mbedtls_md_free(&mdc);
    if (ret != 0) {
        return ret;
    }
    mbedtls_cipher_context_t cc;
    mbedtls_cipher_init(&cc);
    ret = mbedtls_cipher_setup(&cc, mbedtls_cipher_info_from_type(ct));
    if (ret == 0) {
        ret = mbedtls_cipher_setkey(&cc, key, (int)(keylen * 8), MBEDTLS_DECRYPT);
    }
    if (ret == 0) {
        ret = mbedtls_cipher_crypt(&cc, iv.p, iv.len, p, n, out, outlen);
    }
    mbedtls_cipher_free(&cc);
    mbedtls_platform_zeroize(key, sizeof key);
    /* Bad padding after decryption is what a wrong password looks like. */
    return ret == MBEDTLS_ERR_CIPHER_INVALID_PADDING ? MBEDTLS_ERR_PK_PASSWORD_MISMATCH : ret;
}

int mote_tls_parse_pkcs8_aes(mbedtls_pk_context *pk, const uint8_t *in, size_t len, const char *pw)
{
    mbedtls_pem_context pem;
    const uint8_t *der = in;
    size_t der_len = len, used = 0;
    int ret;
    if (!pw) {
        return MBEDTLS_ERR_PK_PASSWORD_REQUIRED;
    }
    mbedtls_pem_init(&pem);
    if (len > 0 && in[len - 1] == '\0') {
        ret = mbedtls_pem_read_buffer(&pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----",
                                      "-----END ENCRYPTED PRIVATE KEY-----", in, NULL, 0, &used);
        if (ret != 0) {
            mbedtls_pem_free(&pem);
            return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
        }
        der = pem.buf;
        der_len = pem.buflen;
    }
    uint8_t *plain = malloc(der_len);
    size_t plain_len = 0;
    if (!plain) {
        mbedtls_pem_free(&pem);
        return MBEDTLS_ERR_PK_ALLOC_FAILED;
    }
    ret = decrypt_der(der, der_len, pw, plain, &plain_len);
    mbedtls_pem_free(&pem);
    if (ret == 0) {
        ret = mbedtls_pk_parse_key(pk, plain, plain_len, NULL, 0);
        /* Garbage that happened to have valid padding: still the wrong password. */
        if (ret != 0) {
            ret = MBEDTLS_ERR_PK_PASSWORD_MISMATCH;
        }
    }
    mbedtls_platform_zeroize(plain, der_len);
    free(plain);
    return ret;
}

#else

int mote_tls_parse_pkcs8_aes(mbedtls_pk_context *pk, const uint8_t *in, size_t len, const char *pw)
{
    (void)pk;
    (void)in;
    (void)len;
    (void)pw;
    return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
}

#endif
