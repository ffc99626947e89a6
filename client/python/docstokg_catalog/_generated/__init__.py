"""Code generated from proto/ by scripts/generate-clients. DO NOT EDIT."""
