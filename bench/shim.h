#ifdef __cplusplus
extern "C" {
#endif
int zxing_read_gray(const unsigned char *pix, int w, int h, int stride, char *out, int outlen);
#ifdef __cplusplus
}
#endif
