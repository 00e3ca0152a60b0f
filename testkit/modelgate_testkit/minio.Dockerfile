# MinIO built from source at the version the local stack pins (modelgate_stack.config), as
# `make up` builds it: the tests' testcontainers run this image (testkit/modelgate_testkit/containers.py).
ARG BUILD_IMAGE
FROM ${BUILD_IMAGE} AS build
ARG MINIO_VERSION
RUN CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN=/out \
    go install -trimpath "-ldflags=-s -w" "github.com/minio/minio@${MINIO_VERSION}"

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/minio /usr/bin/minio
ENTRYPOINT ["/usr/bin/minio"]
