# Build: the official Deno image resolves the locked npm dependencies and compiles one executable with the
# page, docs and fixture assets embedded (`deno task compile`; its first run downloads Deno's runtime, denort).
FROM denoland/deno:2.9.6 AS build
WORKDIR /app
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY src ./src
COPY islands ./islands
COPY static ./static
COPY fixtures ./fixtures
RUN deno task compile \
  && mkdir -p /out/data \
  && cp dist/coherence-engine /out/coherence-engine

# Run: distroless (glibc and libgcc, no shell, no package manager) holding only the binary, as the image's
# nonroot user (uid 65532). The binary is its own health probe (`--healthcheck`), so the image needs no curl.
# With only DARSHAN_* set it serves the live upstream and writes SQLite snapshots to the /data volume.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=build /out/coherence-engine /app/coherence-engine
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data PORT=8000 HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 8000
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/app/coherence-engine", "--healthcheck"]
ENTRYPOINT ["/app/coherence-engine"]
