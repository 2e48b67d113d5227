# syntax=docker/dockerfile:1
# Build: a static binary (no cgo), so the runtime image needs no libc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -extldflags=-static -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/cloud2mqtt ./cmd/cloud2mqtt

# Run: distroless static, non-root. State (tokens, grants, counters) lives in /data.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cloud2mqtt /usr/local/bin/cloud2mqtt
USER nonroot:nonroot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/cloud2mqtt", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/cloud2mqtt"]
CMD ["run", "--config", "/config/config.yaml"]
