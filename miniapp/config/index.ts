import { defineConfig, type UserConfigExport } from '@tarojs/cli';
import path from 'node:path';

/**
 * Taro 4 build, vite compiler. App settings come only from `.env.[mode]` files (`TARO_APP_API`); a variable of
 * the same name in the environment overrides the file (the e2e builds against its own server that way).
 * Output: `dist/weapp` and `dist/h5`; `RIDETRACE_MINIAPP_OUT` moves it (the e2e builds into a temp dir).
 */
export default defineConfig<'vite'>(async (merge, { mode }) => {
  const platform = process.env.TARO_ENV ?? 'weapp';
  const out = process.env.RIDETRACE_MINIAPP_OUT;
  // Taro joins outputRoot to the app path (the working directory of `taro build`): make it relative.
  const outputRoot = out ? path.relative(process.cwd(), path.resolve(out)) : path.join('dist', platform);
  const base: UserConfigExport<'vite'> = {
    projectName: 'ridetrace-miniapp',
    date: '2026-11-22',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot,
    plugins: [],
    defineConstants: {},
    alias: {},
    copy: { patterns: [], options: {} },
    framework: 'react',
    compiler: 'vite',
    mini: {
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: {
          enable: false,
          config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' },
        },
      },
    },
    h5: {
      publicPath: '/',
      staticDirectory: 'static',
      router: { mode: 'hash' },
      devServer: { host: '127.0.0.1', port: 10086 },
      miniCssExtractPluginOption: {
        ignoreOrder: true,
        filename: 'css/[name].[hash].css',
        chunkFilename: 'css/[name].[chunkhash].css',
      },
      postcss: {
        autoprefixer: { enable: true, config: {} },
        cssModules: {
          enable: false,
          config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' },
        },
      },
    },
  };
  if (mode === 'development' || process.env.NODE_ENV === 'development')
    return merge({}, base, { mini: {}, h5: {} });
  return merge({}, base, { mini: {}, h5: {} });
});
