# registry-dash: the dashboard as one image. Build with `docker build -t registry-dash .`
# (or podman/buildah); run with the configuration in the environment (README.md,
# "Running it in production"); deploy/kubernetes/ has manifests for two replicas + Redis.
#
# The build stage runs scripts/build-release.sh (the setup and site scripts the tests run,
# then the release server; scripts/check-deploy.sh checks this file against it): pinned
# tools from crates.io and npm, nothing from GitHub.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bash scripts/build-release.sh

# Runtime: the binary and the site, nothing else, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 registry-dash \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin registry-dash
COPY --from=build /src/target/release/registry-dash /usr/local/bin/registry-dash
COPY --from=build /src/target/site /srv/registry-dash/site
ENV REGISTRY_DASH_SITE_ROOT=/srv/registry-dash/site \
    REGISTRY_DASH_LISTEN=0.0.0.0:3000 \
    REGISTRY_DASH_LOG_FORMAT=json
USER 10001:10001
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/registry-dash"]
