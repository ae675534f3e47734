# syntax=docker/dockerfile:1

# ---- build ----
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/fieldsvc ./cmd/fieldsvc

# ---- run ----
FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates tzdata \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin fieldsvc
COPY --from=build /out/fieldsvc /usr/local/bin/fieldsvc
USER fieldsvc
ENV HTTP_ADDR=:8080
EXPOSE 8080
# Migrate, load the demo data, then become the server (exec: it gets the signals).
ENTRYPOINT ["/bin/sh", "-c", "fieldsvc migrate && fieldsvc seed-demo && exec fieldsvc serve"]
