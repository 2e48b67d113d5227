package ezvizsim

import (
	"bytes"
	"crypto/hmac"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// servePicture serves a capture's picUrl: the signature and expiry are
// checked like a storage bucket's.
func (s *Sim) servePicture(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil || time.Now().Unix() > exp || !hmac.Equal([]byte(q.Get("Signature")), []byte(s.sign(r.URL.Path, exp))) {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/pic/"), "/")
	seq := 0
	if len(parts) == 3 {
		seq, _ = strconv.Atoi(strings.TrimSuffix(parts[2], ".jpg"))
	}
	s.mu.Lock()
	s.downloads++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(Snapshot(seq))
}

// Snapshot renders a small JPEG that differs with n (a moving bar on a
// gradient), standing in for a camera picture.
func Snapshot(n int) []byte {
	const wd, ht = 160, 90
	img := image.NewRGBA(image.Rect(0, 0, wd, ht))
	bar := (n * 17) % wd
	for y := 0; y < ht; y++ {
		for x := 0; x < wd; x++ {
			c := color.RGBA{uint8(x * 255 / wd), uint8(y * 255 / ht), uint8((n * 40) % 256), 255}
			if x >= bar && x < bar+8 {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70})
	return buf.Bytes()
}
