// Package imageboundtest makes the costly images the image readers must
// refuse (imagebound): a progressive JPEG of many scans and an interlaced
// PNG, each as small as a file of its kind can be. It is for tests.
package imageboundtest
