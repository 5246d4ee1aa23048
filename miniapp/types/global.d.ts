/// <reference types="@tarojs/taro" />

declare module '*.png';
declare module '*.css';
declare module '*.scss';

declare namespace NodeJS {
  interface ProcessEnv {
    NODE_ENV: 'development' | 'production' | 'test';
    /** The platform of this build. */
    TARO_ENV: 'weapp' | 'h5' | 'swan' | 'alipay' | 'tt' | 'qq' | 'jd' | 'harmony' | 'rn';
    /** API base URL (from .env.[mode] or the environment at build time). */
    TARO_APP_API: string;
    /** Subscribe-message template of exposure notices (the server's SUPERAPP_EXPOSURE_TEMPLATE_ID). */
    TARO_APP_EXPOSURE_TEMPLATE_ID?: string;
    /** Subscribe-message template of secondary-contact notices (the server's SUPERAPP_SECONDARY_TEMPLATE_ID). */
    TARO_APP_SECONDARY_TEMPLATE_ID?: string;
  }
}
