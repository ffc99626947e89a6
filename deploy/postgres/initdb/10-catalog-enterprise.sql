-- Run by the postgres image on the first start of an empty data volume (docker-entrypoint-initdb.d):
-- the database of compose.yaml's enterprise profile, next to the cloud provider's `catalog`.
CREATE DATABASE catalog_enterprise OWNER catalog;
