# Build: the official Deno image resolves the locked npm dependencies and compiles one executable.
FROM denoland/deno:2.9.6 AS build
WORKDIR /app
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY src ./src
COPY fixtures ./fixtures
RUN deno task compile

# Run: only the binary, as a non-root user, with a volume for DATA_DIR.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /app coherence \
  && mkdir -p /app/data && chown coherence /app/data
WORKDIR /app
COPY --from=build /app/dist/coherence-engine /app/coherence-engine
USER coherence
ENV DATA_DIR=/app/data PORT=8000 HOST=0.0.0.0
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT} && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"ok\"' <&3"]
ENTRYPOINT ["/app/coherence-engine"]
