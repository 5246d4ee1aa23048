export default definePageConfig({ navigationBarTitleText: '健康状态' });
