stop("artifact missing: ", file.path(model_dir, "weights.rds"))
