package shelly

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// checkCommand does the local checks every command passes before any cloud
// call: known device, known and writable entity, device not offline.
func checkCommand(f *fleet, cmd vendors.Command) (vendors.Entity, target, error) {
	e, t, dev, found := f.lookup(cmd.DeviceID, cmd.Key)
	switch {
	case !dev:
		return e, t, &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "no shelly device " + cmd.DeviceID}
	case !found:
		return e, t, &vendors.Error{Code: vendors.CodeUnknownKey, Message: "device has no entity " + cmd.Key}
	case !e.Writable || t.Kind == "":
		return e, t, &vendors.Error{Code: vendors.CodeReadOnly, Message: cmd.Key + " is read-only"}
	}
	if online, known := f.online(cmd.DeviceID); known && !online {
		return e, t, &vendors.Error{Code: vendors.CodeOffline, Message: "the device is offline"}
	}
	return e, t, nil
}

// Execute sends a Shelly:CommandRequest and waits for its response.
func (a *integrator) Execute(ctx context.Context, cmd vendors.Command) error {
	e, t, err := checkCommand(a.fleet, cmd)
	if err != nil {
		return err
	}
	act, err := toAction(e, t, cmd.Value)
	if err != nil {
		return err
	}
	name, params := integratorCommand(act)
	return a.command(ctx, cmd.DeviceID, name, params, true)
}

func (a *integrator) command(ctx context.Context, id, name string, params map[string]any, mayMove bool) error {
	h, host := a.hostFor(id)
	if h == nil {
		return &vendors.Error{Code: vendors.CodeUnavailable, Message: "no connection to the device's shelly server"}
	}
	conn := h.current()
	if conn == nil {
		return &vendors.Error{Code: vendors.CodeUnavailable, Message: "not connected to " + host + " yet"}
	}
	f, err := a.call(ctx, conn, func(trid uint64) []byte { return commandFrame(trid, a.fleet.wireID(id), name, params) })
	if err != nil {
		return err
	}
	r := parseCmdResult(f.Data)
	if r.OK {
		return nil
	}
	code := resultCode(r.Res)
	if code == resWrong && mayMove {
		if err := a.follow(ctx, h, conn, id, r.Host); err != nil {
			return err
		}
		return a.command(ctx, id, name, params, false)
	}
	if code == vendors.CodeOffline {
		if changed, _ := a.fleet.setOnline(id, false); changed {
			if pub := a.publisher(); pub != nil {
				pub.availability(id, false)
			}
		}
	}
	msg := "the cloud refused the command"
	if r.Res != "" {
		msg += ": " + r.Res
	}
	return &vendors.Error{Code: code, Message: msg}
}

// call writes a request and waits for the response with the same trid.
func (a *integrator) call(ctx context.Context, conn *websocket.Conn, build func(uint64) []byte) (frame, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.CommandTimeout)
	defer cancel()
	trid, ch := a.register()
	defer a.unregister(trid)
	if err := conn.Write(ctx, websocket.MessageText, build(trid)); err != nil {
		return frame{}, &vendors.Error{Code: vendors.CodeUnavailable, Message: "command not sent", Err: err}
	}
	select {
	case f := <-ch:
		return f, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return frame{}, &vendors.Error{Code: vendors.CodeTimeout, Message: "no answer from the shelly cloud in time"}
		}
		return frame{}, ctx.Err()
	}
}

// follow moves a device after WRONG_HOST: to the host the answer names, or
// to the one DeviceVerify names; then it waits for that server's socket.
func (a *integrator) follow(ctx context.Context, h *hostConn, conn *websocket.Conn, id, newHost string) error {
	if !validHost(newHost) {
		f, err := a.call(ctx, conn, func(trid uint64) []byte { return actionFrame(trid, actVerify, a.fleet.wireID(id)) })
		if err != nil {
			return err
		}
		r, _ := parseActionResult(f.Data)
		newHost = r.Host // handleAction already stored the move
	}
	if !validHost(newHost) || newHost == h.host {
		return &vendors.Error{Code: resWrong, Message: "the device is on another shelly server, which the cloud did not name"}
	}
	if _, err := a.grants.move(id, newHost); err != nil {
		return &vendors.Error{Code: vendors.CodeInternal, Message: "cannot store the device's new server", Err: err}
	}
	a.syncGrants()
	nh, _ := a.hostFor(id)
	if nh == nil {
		return &vendors.Error{Code: vendors.CodeUnavailable, Message: "no connection to " + newHost}
	}
	wctx, cancel := context.WithTimeout(ctx, a.cfg.CommandTimeout)
	defer cancel()
	if _, err := nh.waitUp(wctx); err != nil {
		return &vendors.Error{Code: vendors.CodeUnavailable, Message: "not connected to " + newHost + " yet"}
	}
	return nil
}

// resultCode turns a CommandResponse's res text into a result code.
func resultCode(res string) string {
	u := strings.ToUpper(strings.TrimSpace(res))
	switch {
	case strings.Contains(u, "WRONG_HOST"):
		return resWrong
	case strings.Contains(u, "OFFLINE"):
		return vendors.CodeOffline
	case strings.Contains(u, "UNAUTHORIZED"), strings.Contains(u, "FORBIDDEN"), strings.Contains(u, "ACCESS"),
		strings.Contains(u, "PERMISSION"), strings.Contains(u, "READ_ONLY"):
		return vendors.CodeForbidden
	case u != "" && isCodeWord(u) && len(u) <= 40:
		return u
	}
	return vendors.CodeCloud
}

func isCodeWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Refresh re-reads one device (or all) with DeviceVerify.
func (a *integrator) Refresh(ctx context.Context, id string) error {
	if id == "" {
		var errs []error
		for _, d := range a.fleet.ids() {
			if err := a.Refresh(ctx, d); err != nil && !errors.Is(err, vendors.ErrOffline) {
				errs = append(errs, err)
			}
			if err := sleepCtx(ctx, a.cfg.VerifyInterval); err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	}
	if !a.fleet.known(id) {
		return &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "no shelly device " + id}
	}
	h, host := a.hostFor(id)
	if h == nil || h.current() == nil {
		return &vendors.Error{Code: vendors.CodeUnavailable, Message: "not connected to " + host}
	}
	conn := h.current()
	f, err := a.call(ctx, conn, func(trid uint64) []byte {
		a.mu.Lock()
		a.verifying[trid] = id
		a.mu.Unlock()
		return actionFrame(trid, actVerify, a.fleet.wireID(id))
	})
	if err != nil {
		return err
	}
	r, _ := parseActionResult(f.Data)
	switch r.Result {
	case resOK:
		if !r.HasStatus {
			return &vendors.Error{Code: vendors.CodeOffline, Message: "the device is offline"}
		}
		return nil
	case resUnauth:
		return &vendors.Error{Code: vendors.CodeForbidden, Message: "the cloud no longer grants this device"}
	case resWrong:
		return nil // handleAction moved it; the new server's connection re-reads it
	}
	return &vendors.Error{Code: vendors.CodeCloud, Message: "device verify answered " + r.Result}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
