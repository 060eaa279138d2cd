// s3rver 3.7 ships no types; this declares the part the hook tests use.
declare module "s3rver" {
    interface S3rverOptions {
        address?: string;
        port?: number;
        silent?: boolean;
        directory?: string;
        resetOnClose?: boolean;
        configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
    }
    class S3rver {
        constructor(options?: S3rverOptions);
        run(): Promise<{ address: string; port: number }>;
        close(): Promise<void>;
    }
    export = S3rver;
}
