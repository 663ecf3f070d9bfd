// A C entry point to zxing-cpp's ReadBarcode for the cgo driver.
#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>

#include <cstring>

#include "shim.h"

extern "C" int zxing_read_gray(const unsigned char *pix, int w, int h, int stride, char *out, int outlen) {
	try {
		ZXing::ImageView view(pix, w, h, ZXing::ImageFormat::Lum, stride);
		ZXing::DecodeHints hints;
		hints.setFormats(ZXing::BarcodeFormat::QRCode);
		hints.setTryHarder(true);
		hints.setTryRotate(true);
		auto r = ZXing::ReadBarcode(view, hints);
		if (!r.isValid()) {
			return -1;
		}
		std::string text = r.text();
		if ((int)text.size() >= outlen) {
			return -2;
		}
		std::memcpy(out, text.data(), text.size());
		return (int)text.size();
	} catch (...) {
		return -3;
	}
}
