package mqttx

import (
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// paho's resume sets Dup on what the store returns; that must not be the
// packet a connection may be writing.
func TestStoreKeepsAndHandsOutCopiesOfPublishes(t *testing.T) {
	s := copyStore{paho.NewMemoryStore()}
	s.Open()
	defer s.Close()
	pub := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pub.Qos, pub.MessageID, pub.TopicName, pub.Payload = 1, 7, "a/b", []byte("x")
	s.Put("o.7", pub)
	pub.FixedHeader.RemainingLength = 99 // as paho's writer does while it writes
	got, ok := s.Get("o.7").(*packets.PublishPacket)
	if !ok || got == pub || got.MessageID != 7 || got.TopicName != "a/b" || string(got.Payload) != "x" {
		t.Fatalf("Get returned %+v", got)
	}
	if got.FixedHeader.RemainingLength == 99 {
		t.Fatal("the store kept the packet paho goes on writing, not a copy")
	}
	got.Dup = true
	if again := s.Get("o.7").(*packets.PublishPacket); again.Dup {
		t.Fatal("marking the copy marked the stored packet")
	}
	if s.Get("o.8") != nil {
		t.Fatal("a missing key returned a packet")
	}
}
