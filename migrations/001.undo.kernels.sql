DROP TABLE kernels;
